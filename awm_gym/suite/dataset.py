"""A task set as a Hugging Face ``datasets.Dataset``: one row per task, the prompt as chat messages.

This is what trainer integrations consume. Each row holds:

- ``scenario``, ``task_idx``, ``task``: which task (build its env with
  ``gym.make("AWM/suite-v0", tasks=..., ...)`` and ``reset(options={"scenario": ..., "task_idx": ...})``);
- ``split``: the task set's name (``"train"``, ``"test"``) or ``""``;
- ``prompt``: ``[{"role": "system", ...}, {"role": "user", "content": task}]``, exactly the first two messages
  :class:`~awm_gym.wrappers.ChatMessages` gives at reset (``prompt_mode="catalog"``: the system prompt lists
  the tools and asks for ``<tool_call>`` text), or a system prompt without the tool list
  (``prompt_mode="native_tools"``, for models called with the API's ``tools`` parameter);
- ``tools``: the scenario's tools as OpenAI function tools, a JSON string (the same as ``info["tools"]``).

The tools come from the scenario's app (its OpenAPI), which means starting the scenario's zygote once;
they are cached on disk next to the no-op audit (``AWM_GYM_CACHE_DIR``), keyed by the scenario's
fingerprint, so a second build costs no process start.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from awm_gym.catalog import TaskSet, load_scenario
from awm_gym.envs.prompts import NATIVE_TOOLS_SYSTEM_PROMPT, SYSTEM_PROMPT
from awm_gym.errors import ConfigurationError
from awm_gym.suite.splits import parallel_map

__all__ = ["NATIVE_SYSTEM_PROMPT", "PROMPT_MODES", "scenario_tools", "tasks_dataset"]

PromptMode = Literal["catalog", "native_tools"]
PROMPT_MODES: tuple[PromptMode, ...] = ("catalog", "native_tools")

NATIVE_SYSTEM_PROMPT = NATIVE_TOOLS_SYSTEM_PROMPT
"""The system prompt of ``prompt_mode="native_tools"``: the tools travel in the API's ``tools`` parameter."""


def scenario_tools(scenario: str, data_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The scenario's tools as OpenAI function tools (from its app; cached on disk by fingerprint).

    Raises:
        ScenarioNotFoundError: No source has the scenario.
        SubEnvStartError: Its app cannot be started (only when the tools are not cached yet).
    """
    from awm_gym.host import SubEnvHost
    from awm_gym.verifier import cache_dir

    loaded = load_scenario(scenario, data_dir)
    path = cache_dir() / "tools" / f"{loaded.name}-{loaded.fingerprint}.json"
    try:
        tools = json.loads(path.read_text())
        if isinstance(tools, list):
            return tools
    except (OSError, ValueError):
        pass
    with SubEnvHost(loaded) as host:
        tools = host.tools.openai_schemas()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(tools))
        temporary.replace(path)  # atomic: concurrent builders never read half a file
    except OSError:  # a read-only cache is fine: the tools were computed
        pass
    return tools


def tasks_dataset(
    taskset: TaskSet,
    *,
    prompt_mode: PromptMode = "catalog",
    system_prompt: str | None = None,
    jobs: int | None = None,
) -> Any:
    """The task set as a ``datasets.Dataset``, one row per task (columns in the module docstring).

    Example:
        >>> import awm_gym
        >>> tasks = awm_gym.TaskSet([("awmgym_pet_clinic", 3)], name="test")
        >>> ds = awm_gym.tasks_dataset(tasks)
        >>> ds[0]["scenario"], ds[0]["task_idx"], ds[0]["split"], [m["role"] for m in ds[0]["prompt"]]
        ('awmgym_pet_clinic', 3, 'test', ['system', 'user'])

    Args:
        taskset: The tasks (their ``data_dir`` says where the scenarios load from).
        prompt_mode: ``"catalog"`` (tools listed in the system prompt, AWM's convention) or ``"native_tools"``.
        system_prompt: Override the system prompt (a ``str.format`` template with ``{tools}``/``{task}``).
        jobs: Scenarios whose tools are fetched at once (default: the CPU count).

    Raises:
        ConfigurationError: Unknown ``prompt_mode``, or a bad ``system_prompt`` template.
    """
    import datasets

    from awm_gym.wrappers.chat import ChatTranscript

    if prompt_mode not in PROMPT_MODES:
        raise ConfigurationError(f"prompt_mode must be one of {PROMPT_MODES}, got {prompt_mode!r}")
    if system_prompt is None:
        system_prompt = SYSTEM_PROMPT if prompt_mode == "catalog" else NATIVE_SYSTEM_PROMPT
    scenarios = taskset.scenarios()
    fetched = parallel_map(lambda name: scenario_tools(name, taskset.data_dir), scenarios, jobs)
    tools = dict(zip(scenarios, fetched, strict=True))
    columns: dict[str, list[Any]] = {name: [] for name in ("scenario", "task_idx", "task", "split", "prompt", "tools")}
    transcript = ChatTranscript(system_prompt=system_prompt)
    for ref in taskset:
        task_list = load_scenario(ref.scenario, taskset.data_dir).tasks
        if not 0 <= ref.task_idx < len(task_list):
            raise ConfigurationError(
                f"task set entry ({ref.scenario!r}, {ref.task_idx}) is out of range: the scenario has "
                f"{len(task_list)} tasks"
            )
        task = task_list[ref.task_idx]
        transcript.start(task, tools[ref.scenario])
        columns["scenario"].append(ref.scenario)
        columns["task_idx"].append(ref.task_idx)
        columns["task"].append(task)
        columns["split"].append(taskset.name or "")
        columns["prompt"].append(transcript.messages)
        columns["tools"].append(json.dumps(tools[ref.scenario], ensure_ascii=False))
    message = datasets.Features({"role": datasets.Value("string"), "content": datasets.Value("string")})
    features = datasets.Features(
        {
            "scenario": datasets.Value("string"),
            "task_idx": datasets.Value("int64"),
            "task": datasets.Value("string"),
            "split": datasets.Value("string"),
            "prompt": datasets.List(message),
            "tools": datasets.Value("string"),
        }
    )
    return datasets.Dataset.from_dict(columns, features=features)
