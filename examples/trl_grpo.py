"""GRPO on AWM tasks with TRL: the model calls the scenario's tools natively; the verifier gives the reward.

    pip install "awm-gym[trl]"
    python examples/trl_grpo.py --model Qwen/Qwen3-0.6B --scenario awmgym_pet_clinic --steps 10

Any causal LM whose chat template TRL can parse tool calls from works (Qwen2.5/3, Llama 3.1/3.2, ...).
Add ``--use-vllm`` on a GPU machine with vLLM installed for fast generation.
"""

from __future__ import annotations

import argparse

from trl import GRPOConfig, GRPOTrainer

import awm_gym
from awm_gym.integrations.trl import AWMSpec


def main() -> None:
    """Train with GRPO on the chosen tasks."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="Qwen/Qwen3-0.6B", help="hub id or local path of the policy")
    parser.add_argument("--scenario", action="append", help="scenarios to train on (default: a train split)")
    parser.add_argument("--steps", type=int, default=10, help="optimisation steps")
    parser.add_argument("--max-env-steps", type=int, default=20, help="tool calls + final answer per episode")
    parser.add_argument("--use-vllm", action="store_true")
    parser.add_argument("--output-dir", default="runs/trl-grpo")
    args = parser.parse_args()

    tasks = args.scenario or awm_gym.task_split(seed=0)[0]  # the train half of a seeded split
    spec = AWMSpec(tasks, max_steps=args.max_env_steps)
    trainer = GRPOTrainer(
        model=args.model,
        args=GRPOConfig(
            output_dir=args.output_dir,
            max_steps=args.steps,
            num_generations=4,
            per_device_train_batch_size=4,
            max_completion_length=4096,  # tool results count toward it
            max_tool_calling_iterations=args.max_env_steps - 1,  # the final answer is the last env step
            use_vllm=args.use_vllm,
            logging_steps=1,
            report_to="none",
        ),
        train_dataset=spec.train_dataset,
        environment_factory=spec.environment_factory,
        reward_funcs=spec.reward_funcs,
    )
    try:
        trainer.train()
    finally:
        spec.close()  # stops the scenario servers


if __name__ == "__main__":
    main()
