"""The Gymnasium environment of one AWM scenario.

One episode, from ``reset`` to the verifier:

1. ``reset`` picks a task (``options["task_idx"]``, else the constructor's ``task_idx``, else one drawn from
   the seeded RNG), restores the episode database to the template and returns the task with the tools.
2. Each ``step`` reads the action (:mod:`awm_gym.envs.actions`): a tool call goes to the scenario's server
   and its result is the next observation (reward 0); a malformed call, an unknown tool or bad arguments
   give an error observation and ``info["error"]`` (reward 0, the episode goes on).
3. Text without a tool call is the final answer: the episode terminates and the scenario's verifier
   compares the initial and final databases. Reaching ``max_steps`` truncates the episode and runs the
   verifier with an empty answer. Only this last step carries a reward, ``reward_config[label]``.

Every standard way to limit an episode ends it this way, with the verifier's reward and ``info["verifier"]``:
the env's ``max_steps`` (or its alias ``max_episode_steps``, which ``make_vec``'s vector entry point
passes), and Gymnasium's :class:`~gymnasium.wrappers.TimeLimit`, which ``gym.make(id, max_episode_steps=N)``,
``make_vec``'s ``"sync"``/``"async"`` modes and a spec's ``max_episode_steps`` put around the env. A
TimeLimit truncates after its N-th step without letting the env verify, and ``make`` cannot pass N to the
env; so ``reset`` looks for a TimeLimit among its callers (the wrappers whose ``reset`` called it) and
ends the episode itself no later than N steps in. Put a TimeLimit directly over the env (as ``make``
does): above :class:`~awm_gym.wrappers.ExpertAdvice` it would also count the expert's steps.

The verifier is unreachable mid-episode: ``verify``, ``done`` or any name outside the scenario's catalog is
an unknown tool. AWM's own agent wraps calls in ``call_tool``/``list_tools`` meta-functions; when the
scenario has no tools of those names they are understood as AWM means them
(:func:`~awm_gym.envs.actions.resolve_awm_call`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium.error import ResetNeeded

from awm_gym.catalog import Scenario, VerifierMode, load_scenario
from awm_gym.envs.actions import LIST_TOOLS, FinalAnswer, MalformedAction, ToolCall, parse_action, resolve_awm_call
from awm_gym.envs.prompts import TASK_TEMPLATE, describe_tools, render_catalog
from awm_gym.envs.spaces import UnicodeText, fit_text
from awm_gym.errors import ConfigurationError
from awm_gym.host import SubEnvHost
from awm_gym.llm import LLMEndpoint
from awm_gym.verifier import Verifier, VerifierResult, find_noop_passes, find_reward_hacks, prestart

__all__ = ["DEFAULT_REWARD_CONFIG", "JUDGE_ENV_PREFIX", "AWMEnv"]

DEFAULT_REWARD_CONFIG: Mapping[str, float] = {"complete": 1.0}
JUDGE_ENV_PREFIX = "AWM_JUDGE"
"""The sql-mode judge's endpoint is read from ``AWM_JUDGE_BASE_URL``, ``AWM_JUDGE_MODEL``, ``AWM_JUDGE_API_KEY``."""


def _time_limit_above(env: gym.Env) -> int | None:
    """The lowest step limit of the Gymnasium ``TimeLimit`` wrappers whose ``reset`` is calling ``env.reset``."""
    from gymnasium.wrappers import TimeLimit

    limits = []
    frame = sys._getframe(2)  # the caller of AWMEnv.reset
    while frame is not None:
        caller = frame.f_locals.get("self") if frame.f_code.co_name == "reset" else None
        if isinstance(caller, TimeLimit) and caller.unwrapped is env:
            limits.append(int(caller._max_episode_steps))
        frame = frame.f_back
    return min(limits, default=None)


class AWMEnv(gym.Env[str, str]):
    """An AWM scenario as a text-in, text-out Gymnasium environment.

    Observations and actions are strings (:class:`~awm_gym.envs.spaces.UnicodeText`). The reward is 0 on every
    step but the last, where it is ``reward_config[label]`` for the verifier's label (``complete`` by default
    scores 1.0, everything else 0.0).

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> env = gym.make("AWM/awmgym_pet_clinic-v0", max_steps=10)
        >>> obs, info = env.reset(seed=0, options={"task_idx": 0})
        >>> info["scenario"], info["task_idx"]
        ('awmgym_pet_clinic', 0)
        >>> obs, reward, terminated, truncated, info = env.step('{"name": "verify", "arguments": {}}')
        >>> obs
        'Unknown tool: verify'
        >>> obs, reward, terminated, truncated, info = env.step("I could not do it.")
        >>> terminated, reward, info["verifier"]["label"]
        (True, 0.0, 'others')
        >>> env.close()

    Info keys: ``reset`` gives ``scenario``, ``task_idx``, ``task``, ``tools`` (OpenAI function tools) and
    ``max_steps``; ``step`` gives ``step``, ``tool_call`` (``{"name", "arguments"}``) for calls, ``error``
    (``{"type", "message"}``) for failed actions, and on the last step ``final_answer`` and ``verifier``
    (``{"mode", "label", "result", "details", "isolation"}``; see docs/security.md).

    Args:
        scenario: Scenario name (as in :func:`awm_gym.list_scenarios`) or a loaded :class:`Scenario`.
        task_idx: Fixed task for every reset (``options["task_idx"]`` overrides it).
        max_steps: Actions per episode before truncation (AWM's agent uses 30). A Gymnasium ``TimeLimit``
            of N steps around the env (``gym.make(id, max_episode_steps=N)``) lowers it to N for the
            episodes it resets (``info["max_steps"]`` says which limit is in force).
        verifier_mode: ``"code"`` (default) or ``"sql"`` (needs the judge endpoint below).
        reward_config: Reward per verifier label; missing labels score 0.0.
        data_dir: Directory of AgentWorldModel-1K files to load ``scenario`` from.
        tool_timeout: Seconds a tool call may take.
        judge_base_url: OpenAI-compatible base URL of the sql-mode judge (or ``AWM_JUDGE_BASE_URL``; see
            :meth:`~awm_gym.llm.LLMEndpoint.from_env`).
        judge_api_key: Its API key (or ``AWM_JUDGE_API_KEY``).
        judge_model: Its model (or ``AWM_JUDGE_MODEL``).
        exclude_noop_tasks: Never draw tasks whose verifier passes when nothing is done, or for an empty, echoed or
            spam answer (:func:`~awm_gym.verifier.find_reward_hacks`).
        transport: ``"channel"`` (default, fastest) or ``"http"`` (real HTTP to the server's uvicorn).
        verifier_timeout: Seconds the verifier code may run.
        max_observation_length: Longer observations are cut (with a note) to fit the observation space.
        max_action_length: Upper bound of the action space; longer actions get an error observation.
        max_answer_length: A longer final answer is not verified (label ``others``, reward as for it): a guard
            against answers that list every plausible value. ``None`` for no limit.
        prompt_template: The reset observation, with ``{task}``, ``{tools}`` and ``{tool_count}`` fields.
        foreign_keys: Enforce foreign keys while building the database (AWM's generator does).
        render_mode: ``"ansi"`` renders the episode transcript as text.
        max_episode_steps: Alias of ``max_steps`` (what ``gym.make_vec``'s vector entry point passes).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | Scenario,
        *,
        task_idx: int | None = None,
        max_steps: int = 30,
        verifier_mode: VerifierMode = "code",
        reward_config: Mapping[str, float] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        tool_timeout: float = 10.0,
        judge_base_url: str | None = None,
        judge_api_key: str | None = None,
        judge_model: str | None = None,
        exclude_noop_tasks: bool = False,
        transport: str = "channel",
        verifier_timeout: float = 20.0,
        max_observation_length: int = 100_000,
        max_action_length: int = 100_000,
        max_answer_length: int | None = 20_000,
        prompt_template: str = TASK_TEMPLATE,
        foreign_keys: bool = True,
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, data_dir)
        max_steps = max_episode_steps if max_episode_steps is not None else max_steps
        if max_steps < 1:
            raise ConfigurationError(f"max_steps must be at least 1, got {max_steps}")
        if task_idx is not None:
            self._check_task(task_idx)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigurationError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.task_idx = task_idx
        self.max_steps = int(max_steps)
        self.reward_config = dict(DEFAULT_REWARD_CONFIG if reward_config is None else reward_config)
        self.exclude_noop_tasks = exclude_noop_tasks
        self.max_observation_length = max_observation_length
        self.prompt_template = prompt_template
        self.render_mode = render_mode
        try:
            judge = LLMEndpoint.from_env(
                JUDGE_ENV_PREFIX, base_url=judge_base_url, model=judge_model, api_key=judge_api_key
            )
        except ConfigurationError:  # no judge configured: code mode needs none, and sql mode's Verifier says so
            judge = None
        self.verifier = Verifier(
            verifier_mode, timeout=verifier_timeout, judge=judge, max_answer_length=max_answer_length
        )
        prestart()  # the verifier worker prepares its sandboxes while the scenario's server starts
        self.host = SubEnvHost(self.scenario, tool_timeout=tool_timeout, transport=transport, foreign_keys=foreign_keys)
        self.observation_space = UnicodeText(max_observation_length)
        self.action_space = UnicodeText(max_action_length)
        self._tools_text: str | None = None
        self._task_idx: int | None = None
        self._steps = 0
        self._limit = self.max_steps  # this episode's step limit: max_steps, or a TimeLimit's if lower
        self._done = True
        self._trajectory: list[dict[str, Any]] = []

    # ------------------------------------------------------------------------------------------ helpers

    def _check_task(self, task_idx: Any) -> int:
        if not isinstance(task_idx, int) or not 0 <= task_idx < len(self.scenario.tasks):
            raise ConfigurationError(
                f"task_idx must be an int in [0, {len(self.scenario.tasks) - 1}] for scenario "
                f"{self.scenario.name!r}, got {task_idx!r}"
            )
        return task_idx

    def _fit(self, text: str) -> str:
        return fit_text(text, self.max_observation_length)

    def _serve(self, host: SubEnvHost) -> None:
        """Serve ``host``'s scenario from the next reset on, dropping per-scenario caches (the suite env's switch)."""
        self.scenario, self.host, self._tools_text = host.scenario, host, None

    @property
    def task(self) -> str:
        """The current task's text."""
        if self._task_idx is None:
            raise ResetNeeded("no task yet: call reset() first")
        return self.scenario.tasks[self._task_idx]

    @property
    def current_task_idx(self) -> int | None:
        """The current task's index (``None`` before the first reset)."""
        return self._task_idx

    @property
    def trajectory(self) -> list[dict[str, Any]]:
        """This episode's steps so far: action, kind, tool call, observation, error (a copy)."""
        return [dict(step) for step in self._trajectory]

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The scenario's tools as OpenAI function tools (fresh copies)."""
        return self.host.tools.openai_schemas()

    def describe_task(self, tools: list[dict[str, Any]] | None = None) -> str:
        """The reset observation for the current task, listing ``tools`` (default: the scenario's)."""
        if tools is None:
            if self._tools_text is None:
                self._tools_text = describe_tools(self.tool_schemas())
            tools_text, count = self._tools_text, len(self.host.tools)
        else:
            tools_text, count = describe_tools(tools), len(tools)
        return self._fit(self.prompt_template.format(task=self.task, tools=tools_text, tool_count=count))

    def noop_tasks(self) -> frozenset[int]:
        """Tasks whose code-mode verifier passes on an untouched database (cached; see :mod:`awm_gym.verifier.noop`)."""
        return find_noop_passes(self.scenario, self.host.initial_database)

    # -------------------------------------------------------------------------------------- Gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start an episode: choose the task, restore the database, describe the task and the tools."""
        super().reset(seed=seed)
        options = options or {}
        if "task_idx" in options and options["task_idx"] is not None:
            task_idx = self._check_task(options["task_idx"])
        elif self.task_idx is not None:
            task_idx = self.task_idx
        else:
            candidates = range(len(self.scenario.tasks))
            if self.exclude_noop_tasks:
                noop = self.noop_tasks() | find_reward_hacks(self.scenario, self.host.initial_database)
                candidates = [i for i in candidates if i not in noop] or list(candidates)
            task_idx = int(candidates[int(self.np_random.integers(len(candidates)))])
        self.host.reset()
        self._task_idx = task_idx
        self._steps = 0
        time_limit = _time_limit_above(self)
        self._limit = self.max_steps if time_limit is None else min(self.max_steps, time_limit)
        self._done = False
        self._trajectory = []
        info = {
            "scenario": self.scenario.name,
            "task_idx": task_idx,
            "task": self.task,
            "tools": self.tool_schemas(),
            "max_steps": self._limit,
        }
        return self.describe_task(), info

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Run one action; see the module docstring for what each kind of action does."""
        if not isinstance(action, str):
            raise TypeError(
                f"an action must be a str (a tool call as JSON or <tool_call> text, or the final answer), got "
                f"{type(action).__name__}; serialise it first, e.g. json.dumps(call)"
            )
        if self._done:
            raise ResetNeeded("the episode is over (or never started): call reset() before step()")
        self._steps += 1
        info: dict[str, Any] = {"step": self._steps}
        record: dict[str, Any] = {"action": action}
        if len(action) > self.action_space.max_length:
            parsed: Any = MalformedAction(
                f"the action is {len(action)} characters long; the limit is {self.action_space.max_length}"
            )
        else:
            parsed = parse_action(action)

        if isinstance(parsed, FinalAnswer):
            return self._finish(parsed.text, record, info, truncated=False)
        if isinstance(parsed, MalformedAction):
            observation, error = f"Invalid action: {parsed.reason}", "malformed_call"
            record["kind"] = "malformed"
        else:
            observation, error = self._call(parsed, record, info)
        if error is not None:
            info["error"] = {"type": error, "message": observation}
        record.update(observation=observation, error=error)
        self._trajectory.append(record)
        if self._steps >= self._limit:
            return self._finish("", None, info, truncated=True, last_observation=observation)
        return self._fit(observation), 0.0, False, False, info

    def count_external_step(self, observation: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Count a step that a wrapper answered itself (e.g. an expert call) toward ``max_steps``.

        Returns what the env returns for a step with that observation: reward 0, or, when the step reaches
        ``max_steps``, the truncated end of the episode with the verifier's reward, as after a tool call. The
        step does not enter the trajectory, so neither the verifier nor the sql-mode judge sees it.
        """
        if self._done:
            raise ResetNeeded("the episode is over (or never started): call reset() before step()")
        self._steps += 1
        info: dict[str, Any] = {"step": self._steps}
        if self._steps >= self._limit:
            return self._finish("", None, info, truncated=True, last_observation=observation)
        return self._fit(observation), 0.0, False, False, info

    def _call(self, call: ToolCall, record: dict[str, Any], info: dict[str, Any]) -> tuple[str, str | None]:
        call = resolve_awm_call(call, self.host.tools)
        name, arguments = call.name, call.arguments
        if name == LIST_TOOLS and name not in self.host.tools:
            record.update(kind="list_tools")
            info["tool_call"] = {"name": name, "arguments": arguments}
            return render_catalog(self.tool_schemas()), None
        record.update(kind="tool_call", tool=name, arguments=arguments)
        info["tool_call"] = {"name": name, "arguments": arguments}
        result = self.host.call_tool(name, arguments)
        return result.text, result.error

    def _finish(
        self,
        final_answer: str,
        record: dict[str, Any] | None,
        info: dict[str, Any],
        *,
        truncated: bool,
        last_observation: str = "",
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if record is not None:
            record.update(kind="final_answer", observation="")
            self._trajectory.append(record)
        result = self.verify(final_answer)
        self._done = True
        reward = float(self.reward_config.get(result.label, 0.0))
        info["final_answer"] = final_answer
        info["verifier"] = result.to_info()
        ending = "the step limit was reached" if truncated else "final answer received"
        observation = f"Episode finished: {ending}. Verifier ({result.mode} mode): {result.label}."
        if last_observation:
            observation = f"{last_observation}\n\n{observation}"
        return self._fit(observation), reward, not truncated, truncated, info

    def verify(self, final_answer: str) -> VerifierResult:
        """Run the current task's verifier on the database as it is now (the env calls this at the end)."""
        if self._task_idx is None:
            raise ResetNeeded("no task to verify yet: call reset() first")
        initial, _final = self.host.snapshot(self.host.workdir / "verify")
        return self.verifier.verify(
            self.scenario.verifier(self.verifier.mode, self._task_idx),
            workdir=initial.parent,
            task=self.task,
            final_answer=final_answer,
            trajectory=self.trajectory,
        )

    def render(self) -> str | None:
        """In ``"ansi"`` mode, the transcript of the current episode."""
        if self.render_mode != "ansi":
            return None
        lines = [f"[{self.scenario.name} task {self._task_idx}] {self.task if self._task_idx is not None else ''}"]
        for number, step in enumerate(self._trajectory, 1):
            lines.append(f"{number:>3}> {step['action']}")
            if step.get("observation"):
                lines.append(f"    < {step['observation'][:500]}")
        return "\n".join(lines)

    def close(self) -> None:
        """Stop the scenario server and release the verifier connection (idempotent)."""
        self.host.close()
        self.verifier.close()
        super().close()
