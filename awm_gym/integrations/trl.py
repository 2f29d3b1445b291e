"""TRL: AWM tasks for ``GRPOTrainer``, in the shape of TRL's own environment specs.

One :class:`AWMSpec` gives the three things ``GRPOTrainer`` takes, like TRL's ``OpenRewardSpec`` and
``HarborSpec``::

    from trl import GRPOConfig, GRPOTrainer
    from awm_gym.integrations.trl import AWMSpec

    spec = AWMSpec(["awmgym_pet_clinic", "awmgym_home_budget"], max_steps=20)
    trainer = GRPOTrainer(
        model="Qwen/Qwen3-0.6B",
        args=GRPOConfig(max_tool_calling_iterations=19),
        train_dataset=spec.train_dataset,
        environment_factory=spec.environment_factory,
        reward_funcs=spec.reward_funcs,
    )

- ``train_dataset``: one row per (scenario, task): ``prompt`` (the native-tools system prompt and an empty
  user message, which TRL completes with what ``reset`` returns), ``environment`` (the scenario: TRL picks the
  row's environment by it), ``scenario``, ``task_idx``, ``task`` and ``split``.
- ``environment_factory``: ``{scenario: factory}``. Each instance (:class:`AWMToolEnvironment`) holds one env
  stack; ``reset(**row)`` starts the row's task and returns the task text (the tools are not listed in it: TRL
  passes them to the chat template). The scenario's tools are methods named after them, whose signatures and
  Google-style docstrings make ``transformers.utils.get_json_schema`` rebuild the tool's JSON schema: names,
  descriptions, types (nullable, arrays, enums), required and optional parameters; constraints a type hint cannot
  carry (minimum, pattern, format, ...) are written into the parameter's description. A tool call runs as an
  env step, and its observation is the tool result (errors included, in the env's words).
- ``reward_funcs``: ``[awm_reward]``. For each rollout it ends the episode with the text of the model's last
  assistant message as the final answer (so answer-type tasks can pass), runs the verifier, and returns the
  episode's return (the verifier's reward, plus shaping terms under :class:`~awm_gym.wrappers.RewardShaping`).

Wrappers compose: ``AWMSpec(..., wrappers=[RewardShaping, lambda env: ExpertAdvice(env, expert)])`` shapes the
reward and adds ``ask_expert`` as one more tool.
"""

from __future__ import annotations

import inspect
import json
import keyword
import operator
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property, reduce
from typing import Any, ClassVar, Literal

import gymnasium as gym

from awm_gym.errors import ConfigurationError
from awm_gym.integrations._common import EnvBuilder, TaskRow, final_answer, require, resolve_tasks

__all__ = [
    "AWMSpec",
    "AWMToolEnvironment",
    "awm_reward",
    "tool_method",
]

_RESERVED = ("reset", "get_reward")
_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict,
    "null": type(None),
}
_CONSTRAINTS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "default",
)
# Words that would end the docstring's description or an argument's text early for transformers' parser.
_SECTION_WORDS = ("Args:", "Returns:", "Raises:")


# ------------------------------------------------------------------------------------- tools as methods


def _python_type(schema: Mapping[str, Any]) -> Any:
    """The type hint from which ``transformers.utils.get_json_schema`` rebuilds ``schema``'s type."""
    if "enum" in schema and schema["enum"]:
        return Literal[tuple(schema["enum"])]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return reduce(operator.or_, [_python_type(option) for option in options if isinstance(option, Mapping)])
    kind = schema.get("type")
    if isinstance(kind, list):
        return reduce(operator.or_, [_python_type({**schema, "type": k}) for k in kind])
    if kind == "array":
        items = schema.get("items")
        return list[_python_type(items)] if isinstance(items, Mapping) and items else list
    return _SCALARS.get(kind, Any)


def _no_sections(text: str) -> str:
    for word in _SECTION_WORDS:
        text = text.replace(word, word[:-1] + " -")
    return text


def _constraints(schema: Mapping[str, Any]) -> str:
    found: dict[str, Any] = {}
    for part in [schema, *[s for s in schema.get("anyOf") or schema.get("oneOf") or [] if isinstance(s, Mapping)]]:
        for key in _CONSTRAINTS:
            if key in part and key not in found and part[key] is not None:
                found[key] = part[key]
    return "; ".join(f"{key} {json.dumps(value)}" for key, value in found.items())


def _parameter(name: str, *, required: bool, annotation: Any) -> inspect.Parameter:
    kind = inspect.Parameter.KEYWORD_ONLY
    default = inspect.Parameter.empty if required else None
    if name.isidentifier() and not keyword.iskeyword(name):
        return inspect.Parameter(name, kind, default=default, annotation=annotation)
    # Tool parameters may be Python keywords (AWM scenarios have ``class`` and ``async`` columns). The model
    # passes arguments by name (``tool(**arguments)``), so the name only has to reach the schema.
    parameter = inspect.Parameter("_", kind, default=default, annotation=annotation)
    parameter._name = name  # type: ignore[attr-defined]  # the slot behind the read-only ``name``
    return parameter


def tool_method(tool: Mapping[str, Any]) -> Callable[..., str]:
    """A method standing for one OpenAI function tool, as TRL discovers tools on an environment class.

    Calling it (with keyword arguments, as TRL does) runs ``self._call_tool(name, arguments)``. Its signature,
    type hints and Google-style docstring carry the tool's name, description and parameters, so
    ``transformers.utils.get_json_schema`` gives back the tool's schema.

    Example:
        >>> from transformers.utils import get_json_schema
        >>> method = tool_method({"type": "function", "function": {"name": "list_pets", "description": "List pets.",
        ...     "parameters": {"type": "object", "required": ["species"], "properties": {
        ...         "species": {"type": "string", "description": "Which species"},
        ...         "limit": {"anyOf": [{"type": "integer", "maximum": 50}, {"type": "null"}]}}}}})
        >>> get_json_schema(method)["function"]["parameters"]  # doctest: +NORMALIZE_WHITESPACE
        {'type': 'object', 'properties': {'species': {'type': 'string', 'description': 'Which species'},
         'limit': {'type': 'integer', 'nullable': True, 'description': 'limit (maximum 50)'}}, 'required': ['species']}

    Raises:
        ConfigurationError: If the tool's name is not a Python identifier or is reserved by TRL (``reset``,
            ``get_reward``) or private (leading underscore).
    """
    function = tool.get("function", tool)
    name = function.get("name")
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or name in _RESERVED:
        raise ConfigurationError(
            f"TRL calls environment methods by the tool's name, so a tool name must be a public Python identifier "
            f"other than {', '.join(_RESERVED)}; found the tool {name!r}"
        )
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") or {}
    required = set(parameters.get("required") or [])
    signature_parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    annotations: dict[str, Any] = {}
    arg_lines = []
    # Required parameters first: a signature cannot have defaulted parameters before plain ones.
    for param in sorted(properties, key=lambda p: p not in required):
        schema = properties[param] if isinstance(properties[param], Mapping) else {}
        annotation = _python_type(schema)
        annotations[param] = annotation
        signature_parameters.append(_parameter(param, required=param in required, annotation=annotation))
        text = _no_sections(" ".join(str(schema.get("description") or schema.get("title") or param).split()))
        constraints = _constraints(schema)
        arg_lines.append(f"    {param}: {text}{f' ({constraints})' if constraints else ''}")
    description = _no_sections((function.get("description") or "").strip() or f"Call the {name} tool.")
    doc = description + ("\n\nArgs:\n" + "\n".join(arg_lines) if arg_lines else "")

    def method(self: AWMToolEnvironment, **arguments: Any) -> str:
        return self._call_tool(name, arguments)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    method.__signature__ = inspect.Signature(signature_parameters, return_annotation=str)  # type: ignore[attr-defined]
    method.__annotations__ = {**annotations, "return": str}
    return method


# --------------------------------------------------------------------------------------- the environment


class AWMToolEnvironment:
    """One rollout slot of ``GRPOTrainer``: an AWM env stack whose tools are this object's methods.

    Built by :attr:`AWMSpec.environment_factory`, one subclass per scenario (its methods are that scenario's
    tools, plus ``ask_expert`` under :class:`~awm_gym.wrappers.ExpertAdvice`). TRL calls :meth:`reset` with the
    dataset row, the tool methods while the model calls tools, and the reward function after the rollout.

    Attributes:
        scenario: The scenario whose tools the class has.
        env: The env stack.
        done: Whether the episode has ended.
        reward: The episode's return so far (the verifier's reward once it has ended).
        info: The info of the last step (``verifier`` once the episode has ended).
        num_tool_calls: Tool calls made in this episode.
    """

    scenario: ClassVar[str]
    tools: ClassVar[list[dict[str, Any]]]

    def __init__(self, env: gym.Env) -> None:
        self.env = env
        self.done = True
        self.reward = 0.0
        self.info: dict[str, Any] = {}
        self.num_tool_calls = 0
        self.task_idx: int | None = None

    def reset(self, *, scenario: str | None = None, task_idx: int | None = None, **row: Any) -> str:
        """Start the row's task; return its text (TRL appends it to the prompt's last message).

        Args:
            scenario: The row's scenario (must be this environment's).
            task_idx: The row's task (default: one drawn by the env).
            **row: The dataset row's other columns (ignored).

        Returns:
            The task observation.

        Raises:
            ConfigurationError: If the row belongs to another scenario.
        """
        if scenario is not None and scenario != self.scenario:
            raise ConfigurationError(
                f"this environment runs scenario {self.scenario!r}, but the row is for {scenario!r}: pass "
                "environment_factory as the dict AWMSpec builds, with its dataset's `environment` column"
            )
        observation, info = self.env.reset(options={"task_idx": task_idx})
        self.done = False
        self.reward = 0.0
        self.info = info
        self.num_tool_calls = 0
        self.task_idx = info.get("task_idx")
        return observation

    def _call_tool(self, name: str, arguments: Mapping[str, Any]) -> str:
        if self.done:
            return "The episode is over (the step limit was reached): no more tool calls run. Give your final answer."
        self.num_tool_calls += 1
        return self._step(json.dumps({"name": name, "arguments": dict(arguments)}, ensure_ascii=False))

    def _step(self, action: str) -> str:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.reward += float(reward)
        self.info = info
        self.done = bool(terminated or truncated)
        return observation

    def _finish(self, answer: str) -> float:
        """End the episode with ``answer`` as the final answer (if it is still running); return its return.

        A last message that is itself a tool call (TRL stopped before running it, or could not parse it) is no
        answer: the env would run it. The verifier then sees an empty answer, as at the step limit.
        """
        if not self.done:
            from awm_gym.envs.actions import FinalAnswer, parse_action

            self._step(answer if isinstance(parse_action(answer), FinalAnswer) else "")
        return self.reward

    def _close(self) -> None:
        self.env.close()


def awm_reward(
    completions: list[Any] | None = None,
    environments: list[AWMToolEnvironment] | None = None,
    **_: Any,
) -> list[float | None]:
    """TRL reward function: each rollout's episode return, its last assistant message being the final answer.

    Rollouts whose environment is not an :class:`AWMToolEnvironment` get ``None`` (TRL leaves them out).

    Args:
        completions: The completions, one per rollout (lists of chat messages).
        environments: The rollouts' environments (``GRPOTrainer`` passes them).

    Returns:
        One reward per rollout.
    """
    if environments is None:
        raise ConfigurationError("awm_reward needs the rollouts' environments: use it with AWMSpec.environment_factory")
    completions = completions if completions is not None else [None] * len(environments)
    return [
        env._finish(final_answer(completion)) if isinstance(env, AWMToolEnvironment) else None
        for completion, env in zip(completions, environments, strict=True)
    ]


# ---------------------------------------------------------------------------------------------- the spec


class AWMSpec:
    """AWM tasks for TRL's ``GRPOTrainer``: ``train_dataset``, ``environment_factory`` and ``reward_funcs``.

    See the module docstring for what each holds.

    Example:
        >>> spec = AWMSpec([("awmgym_pet_clinic", 0), ("awmgym_pet_clinic", 1)], max_steps=5)
        >>> spec.train_dataset.column_names
        ['prompt', 'environment', 'scenario', 'task_idx', 'task', 'split']
        >>> env = spec.environment_factory["awmgym_pet_clinic"]()
        >>> row = spec.train_dataset[1]
        >>> env.reset(**{k: v for k, v in row.items() if k != "environment"}) == row["task"]
        True
        >>> "list_my_invoices" in type(env).__dict__
        True
        >>> spec.close()

    Args:
        tasks: What to train on: a task set (e.g. the train half of :func:`awm_gym.task_split`), a scenario
            name, or scenario names and ``(scenario, task_idx)`` pairs (see
            :func:`~awm_gym.integrations._common.resolve_tasks`). ``None``: every task found.
        data_dir: Where the scenarios load from.
        max_steps: Env steps per episode: tool calls, plus the final answer. Set TRL's
            ``max_tool_calling_iterations`` below it; a rollout that reaches it is verified with an empty answer.
        wrappers: Callables ``env -> env`` applied to each env, innermost first (e.g. ``RewardShaping``,
            ``lambda env: ExpertAdvice(env, expert)``).
        system_prompt: The rows' system message (default: :data:`~awm_gym.envs.NATIVE_TOOLS_SYSTEM_PROMPT`).
        env_kwargs: Further :class:`~awm_gym.envs.AWMEnv` keyword arguments (``verifier_mode``, ...).
    """

    def __init__(
        self,
        tasks: Any = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        max_steps: int = 30,
        wrappers: Iterable[Callable[[gym.Env], gym.Env]] = (),
        system_prompt: str | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        from awm_gym.envs.prompts import NATIVE_TOOLS_SYSTEM_PROMPT, NATIVE_TOOLS_TASK_TEMPLATE

        self.tasks: list[TaskRow] = resolve_tasks(tasks, data_dir=data_dir)
        if not self.tasks:
            raise ConfigurationError("AWMSpec needs at least one task; the task list is empty")
        self.system_prompt = NATIVE_TOOLS_SYSTEM_PROMPT if system_prompt is None else system_prompt
        self._build = EnvBuilder(
            data_dir=data_dir if data_dir is not None else getattr(tasks, "data_dir", None),
            max_steps=max_steps,
            prompt_template=NATIVE_TOOLS_TASK_TEMPLATE,
            wrappers=wrappers,
            env_kwargs=env_kwargs,
        )
        self._classes: dict[str, type[AWMToolEnvironment]] = {}
        self._lock = threading.Lock()
        self._instances: weakref.WeakSet[AWMToolEnvironment] = weakref.WeakSet()

    @cached_property
    def train_dataset(self) -> Any:
        """A ``datasets.Dataset``, one row per task (see the module docstring)."""
        datasets = require("datasets", "trl")
        prompt = [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": ""}]
        return datasets.Dataset.from_list(
            [
                {
                    "prompt": prompt,
                    "environment": row.scenario,
                    "scenario": row.scenario,
                    "task_idx": row.task_idx,
                    "task": row.task,
                    "split": row.split,
                }
                for row in self.tasks
            ]
        )

    @cached_property
    def environment_factory(self) -> dict[str, Callable[[], AWMToolEnvironment]]:
        """``{scenario: factory}`` for ``GRPOTrainer(environment_factory=...)``."""
        scenarios = dict.fromkeys(row.scenario for row in self.tasks)
        return {scenario: self._factory(scenario) for scenario in scenarios}

    @property
    def reward_funcs(self) -> list[Callable[..., list[float | None]]]:
        """``[awm_reward]`` for ``GRPOTrainer(reward_funcs=...)``."""
        return [awm_reward]

    def _factory(self, scenario: str) -> Callable[[], AWMToolEnvironment]:
        def make() -> AWMToolEnvironment:
            env = self._build(scenario)
            try:
                instance = self._environment_class(scenario, env)(env)
            except BaseException:
                env.close()
                raise
            self._instances.add(instance)
            return instance

        make.__name__ = make.__qualname__ = f"make_{scenario}"
        return make

    def _environment_class(self, scenario: str, env: gym.Env) -> type[AWMToolEnvironment]:
        with self._lock:
            if scenario not in self._classes:
                tools = _tool_schemas(env)
                methods = {tool["function"]["name"]: tool_method(tool) for tool in tools}
                name = "AWM_" + "".join(part.capitalize() for part in scenario.split("_") if part)
                namespace: dict[str, Any] = {"scenario": scenario, "tools": tools, "__module__": __name__, **methods}
                self._classes[scenario] = type(name, (AWMToolEnvironment,), namespace)
            return self._classes[scenario]

    def close(self) -> None:
        """Close every env this spec's factories built (their scenario servers stop)."""
        for instance in list(self._instances):
            instance._close()


def _tool_schemas(env: gym.Env) -> list[dict[str, Any]]:
    """The tools a policy sees in ``env``'s stack: the scenario's, plus ``ask_expert`` under ExpertAdvice."""
    from awm_gym.wrappers import ExpertAdvice, ask_expert_tool
    from awm_gym.wrappers._stack import has_layer

    tools = env.unwrapped.tool_schemas()
    if has_layer(env, ExpertAdvice):
        tools.append(ask_expert_tool())
    return tools
