"""AWM tasks for SkyRL: a prompt dataset in SkyRL's format and the registered ``"awm"`` text environment.

    pip install "awm-gym[skyrl]"
    python examples/skyrl_env.py --out data/awm          # writes train.parquet and validation.parquet

Train with SkyRL's usual entrypoint, registering the env in it (``awm_gym.integrations.skyrl.register()``),
with ``data.train_data=[data/awm/train.parquet]`` and ``environment.env_class=awm``. This script also plays
one scripted episode through ``skyrl_gym.make``, as SkyRL's generator does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import skyrl_gym

import awm_gym
from awm_gym.integrations.skyrl import skyrl_dataset


def main() -> None:
    """Write the datasets (with --out) and play one scripted episode."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="directory for train.parquet and validation.parquet")
    args = parser.parse_args()

    train, test = awm_gym.task_split(seed=0, test_fraction=0.2)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        skyrl_dataset(train).to_parquet(str(args.out / "train.parquet"))
        skyrl_dataset(test).to_parquet(str(args.out / "validation.parquet"))
        print(f"wrote {len(train)} train and {len(test)} validation tasks to {args.out}")

    # One episode, driven as SkyRL's generator drives it (the "model" is scripted here).
    row = skyrl_dataset([("awmgym_pet_clinic", 1)])[0]
    extras = {key: value for key, value in row.items() if key not in ("prompt", "env_class")}
    env = skyrl_gym.make(row["env_class"], env_config={"max_steps": 20}, extras=extras)
    prompt, _ = env.init(row["prompt"])
    print(prompt[0]["content"][:200], "...")
    for action in (
        '<tool_call>{"name": "list_my_invoices", "arguments": {}}</tool_call>',
        "You currently owe $1,084.15 in total.",
    ):
        out = env.step(action)
        print("done" if out["done"] else out["observations"][0]["content"][:120], out["reward"])
    print(env.get_metrics())
    env.close()


if __name__ == "__main__":
    main()
