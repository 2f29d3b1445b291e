"""The whole AWM distribution as one environment: each reset draws a (scenario, task) from a task set.

:class:`AWMSuiteEnv` is an :class:`~awm_gym.envs.AWMEnv` whose scenario changes at reset. Everything else is
the per-scenario env's: the API, the spaces, the info keys, the verifier reward, and so every wrapper and
the vector env. Switching scenario swaps the env's :class:`~awm_gym.host.SubEnvHost`: the new scenario's
server is forked from its zygote (shared by every env of this process, see :mod:`awm_gym.host.zygote`),
so a scenario seen before costs a fork, not a cold start. ``keep_scenarios`` hosts stay alive per env
(least recently used out), so alternating between a few scenarios does not even fork.

Reward modes:

- ``"verifier"`` (default): the scenario's verifier, exactly as :class:`~awm_gym.envs.AWMEnv`;
- ``"endpoint_hit"``: for endpoint tasks (the ``awm_1k_fixed_harness`` release, see
  :mod:`awm_gym.catalog.harness`), the last step's reward is 1.0 iff the task's target operation was
  called during the episode (successful or not, as awm-harness-1k counts it), else 0.0. The verifier is
  not run (``info["verifier"]["label"]`` is ``"unverifiable"``); ``info["endpoint_hit"]`` holds
  ``{"target", "hit"}`` on the last step and ``info["endpoint_target"]`` names the target at reset.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, SupportsFloat

import gymnasium as gym
import numpy as np

from awm_gym.catalog import TaskRef, TaskSet, load_scenario, normalize_name
from awm_gym.envs.awm_env import AWMEnv
from awm_gym.errors import ConfigurationError
from awm_gym.host import SubEnvHost
from awm_gym.verifier import VerifierResult

__all__ = ["REWARD_MODES", "AWMSuiteEnv", "RewardMode", "task_weights"]

RewardMode = Literal["verifier", "endpoint_hit"]
REWARD_MODES: tuple[RewardMode, ...] = ("verifier", "endpoint_hit")

_FIXED_BY_SUITE = ("scenario", "task_idx", "exclude_noop_tasks")

Weights = str | Sequence[float] | Mapping[Any, float] | None


def task_weights(tasks: TaskSet, weights: Weights) -> np.ndarray | None:
    """Sampling probabilities over ``tasks`` (``None``: uniform over tasks).

    Args:
        tasks: The task set.
        weights: ``None`` (uniform over tasks); ``"scenario"`` (uniform over scenarios, then over each
            scenario's tasks); a sequence of one non-negative weight per task, in order; or a mapping whose
            keys are :class:`TaskRef`/``(scenario, task_idx)`` pairs or scenario names (a pair's own weight
            wins over its scenario's; unlisted tasks weigh 0).

    Raises:
        ConfigurationError: Wrong length, negative or non-finite weights, or all weights zero.

    Example:
        >>> tasks = TaskSet([("a", 0), ("a", 1), ("b", 0)])
        >>> task_weights(tasks, "scenario").tolist()
        [0.25, 0.25, 0.5]
    """
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights != "scenario":
            raise ConfigurationError(f"weights must be None, 'scenario', a sequence or a mapping, got {weights!r}")
        counts: dict[str, int] = {}
        for ref in tasks:
            counts[ref.scenario] = counts.get(ref.scenario, 0) + 1
        raw = np.array([1.0 / counts[ref.scenario] for ref in tasks])
    elif isinstance(weights, Mapping):
        by_ref: dict[TaskRef, float] = {}
        by_scenario: dict[str, float] = {}
        for key, value in weights.items():
            if isinstance(key, str):
                by_scenario[normalize_name(key)] = float(value)
            else:
                by_ref[TaskSet([key])[0]] = float(value)
        raw = np.array([by_ref.get(ref, by_scenario.get(ref.scenario, 0.0)) for ref in tasks])
    else:
        raw = np.asarray(list(weights), dtype=np.float64)
        if raw.shape != (len(tasks),):
            raise ConfigurationError(
                f"weights must hold one number per task ({len(tasks)}), got {raw.shape[0] if raw.ndim else 0}"
            )
    if not np.all(np.isfinite(raw)) or np.any(raw < 0) or raw.sum() <= 0:
        raise ConfigurationError(f"weights must be finite, non-negative and not all zero, got {raw.tolist()[:20]}")
    return raw / raw.sum()


class AWMSuiteEnv(AWMEnv):
    """Many AWM scenarios as one Gymnasium environment: each reset draws a (scenario, task) pair.

    The draw is uniform over the task set's pairs unless ``weights`` says otherwise, from the env's seeded RNG
    (``reset(seed=...)``). ``reset(options={"scenario": s, "task_idx": i})`` picks a pair explicitly (any
    loadable scenario); with only ``"scenario"``, a task of that scenario is drawn from the set (from all its
    tasks if the set has none); with only ``"task_idx"``, the current scenario is kept.

    Example:
        >>> import gymnasium as gym
        >>> import awm_gym
        >>> tasks = awm_gym.TaskSet.from_scenarios(["awmgym_pet_clinic", "awmgym_home_budget"])
        >>> env = gym.make("AWM/suite-v0", tasks=tasks, max_steps=5)
        >>> obs, info = env.reset(options={"scenario": "awmgym_home_budget", "task_idx": 2})
        >>> info["scenario"], info["task_idx"]
        ('awmgym_home_budget', 2)
        >>> obs, info = env.reset(seed=0)
        >>> (info["scenario"], info["task_idx"]) in [(r.scenario, r.task_idx) for r in tasks]
        True
        >>> env.close()

    Args:
        tasks: A :class:`~awm_gym.catalog.TaskSet`, the path of a saved one, or ``(scenario, task_idx)`` pairs.
        weights: Sampling weights (see :func:`task_weights`): ``None`` (uniform over tasks), ``"scenario"``, a
            sequence (one per task) or a mapping.
        reward_mode: ``"verifier"`` (default) or ``"endpoint_hit"`` (endpoint tasks; see the module docstring).
        keep_scenarios: How many scenarios' servers this env keeps running (least recently used out);
            1 keeps only the current one.
        data_dir: Where scenarios load from (default: the task set's ``data_dir``, else the default sources).
        **env_kwargs: Every other :class:`~awm_gym.envs.AWMEnv` keyword argument (``max_steps``,
            ``verifier_mode``, ``reward_config``, ``tool_timeout``, ...), applied to every scenario.

    Raises:
        ConfigurationError: An empty task set, bad weights or reward mode, or a per-scenario argument
            (``scenario``, ``task_idx``, ``exclude_noop_tasks``: the task set decides those).
    """

    def __init__(
        self,
        tasks: TaskSet | str | os.PathLike[str] | Iterable[Any],
        *,
        weights: Weights = None,
        reward_mode: RewardMode = "verifier",
        keep_scenarios: int = 1,
        data_dir: str | os.PathLike[str] | None = None,
        **env_kwargs: Any,
    ) -> None:
        fixed = sorted(set(env_kwargs) & set(_FIXED_BY_SUITE))
        if fixed:
            raise ConfigurationError(
                f"AWMSuiteEnv draws its scenario and task from the task set; do not pass {fixed}. Pick one pair with "
                "reset(options={'scenario': ..., 'task_idx': ...}), or exclude tasks when building the set "
                "(awm_gym.task_split(exclude_noop=True))"
            )
        if reward_mode not in REWARD_MODES:
            raise ConfigurationError(f"reward_mode must be one of {REWARD_MODES}, got {reward_mode!r}")
        if not isinstance(keep_scenarios, int) or keep_scenarios < 1:
            raise ConfigurationError(f"keep_scenarios must be an int >= 1, got {keep_scenarios!r}")
        self.tasks = self.load_tasks(tasks)
        self.probabilities = task_weights(self.tasks, weights)
        self.reward_mode: RewardMode = reward_mode
        self.keep_scenarios = keep_scenarios
        self.data_dir = str(data_dir) if data_dir is not None else self.tasks.data_dir
        self._foreign_keys = bool(env_kwargs.get("foreign_keys", True))
        self._parked: OrderedDict[str, SubEnvHost] = OrderedDict()  # earlier scenarios' hosts, LRU first
        first = self.tasks[0].scenario
        super().__init__(load_scenario(first, self.data_dir), **env_kwargs)
        self._scenario_tasks: dict[str, list[int]] = {}
        for ref in self.tasks:
            self._scenario_tasks.setdefault(ref.scenario, []).append(ref.task_idx)

    @staticmethod
    def load_tasks(tasks: TaskSet | str | os.PathLike[str] | Iterable[Any]) -> TaskSet:
        """The task set ``tasks`` stands for: itself, the set saved at that path, or a set of those pairs.

        Raises:
            ConfigurationError: The set is empty.
        """
        if isinstance(tasks, TaskSet):
            taskset = tasks
        elif isinstance(tasks, str | os.PathLike):
            taskset = TaskSet.load(tasks)
        else:
            taskset = TaskSet(tasks)
        if not taskset:
            raise ConfigurationError("the task set is empty: AWMSuiteEnv needs at least one (scenario, task_idx) pair")
        return taskset

    def __repr__(self) -> str:
        return f"<AWMSuiteEnv {len(self.tasks)} tasks, {len(self._scenario_tasks)} scenarios, now {self.scenario.name}>"

    # --------------------------------------------------------------------------------------- scenarios

    @property
    def live_scenarios(self) -> list[str]:
        """Scenarios whose hosts this env holds, least recently used first (the current one last)."""
        return [*self._parked, self.scenario.name]

    def _switch(self, name: str) -> None:
        """Make ``name`` the current scenario, reusing a parked host or creating one (its zygote is shared)."""
        key = normalize_name(name)
        if key == self.scenario.name:
            return
        host = self._parked.pop(key, None)
        if host is None:
            host = SubEnvHost(
                load_scenario(key, self.data_dir),
                tool_timeout=self.host.tool_timeout,
                transport=self.host.transport,
                foreign_keys=self._foreign_keys,
            )
        self._parked[self.scenario.name] = self.host
        while len(self._parked) > self.keep_scenarios - 1:
            self._parked.popitem(last=False)[1].close(wait=False)  # the next scenario's start does not wait
        self._serve(host)

    def _draw(self, scenario: str | None) -> tuple[str, int]:
        if scenario is None:
            if self.probabilities is None:
                ref = self.tasks[int(self.np_random.integers(len(self.tasks)))]
            else:
                ref = self.tasks[int(self.np_random.choice(len(self.tasks), p=self.probabilities))]
            return ref.scenario, ref.task_idx
        key = normalize_name(scenario)
        candidates = self._scenario_tasks.get(key)
        if candidates is None:
            self._switch(key)
            candidates = list(range(len(self.scenario.tasks)))
        return key, int(candidates[int(self.np_random.integers(len(candidates)))])

    def endpoint_target(self, task_idx: int | None = None) -> str:
        """The operation an endpoint task of the current scenario asks for (default: the current task's).

        Raises:
            ConfigurationError: The current scenario has no endpoint tasks (it is not from the harness release).
        """
        endpoints = self.scenario.extra.get("endpoint_tasks")
        idx = self.current_task_idx if task_idx is None else task_idx
        if not isinstance(endpoints, Sequence) or idx is None or not 0 <= idx < len(endpoints):
            raise ConfigurationError(
                f"reward_mode='endpoint_hit' needs endpoint tasks, but scenario {self.scenario.name!r} "
                f"({self.scenario.source}) has none; endpoint tasks come from awm_1k_fixed_harness data "
                "(data_dir=<parquet> or awm_gym.catalog.HARNESS_URL). Use reward_mode='verifier' for AgentWorldModel-1K"
            )
        return str(endpoints[idx]["operation_id"])

    # -------------------------------------------------------------------------------------- Gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Draw (or take from ``options``) a scenario and task, switch to that scenario, start the episode."""
        gym.Env.reset(self, seed=seed)
        options = dict(options or {})
        scenario = options.pop("scenario", None)
        if scenario is not None and not isinstance(scenario, str):
            raise ConfigurationError(f"options['scenario'] must be a scenario name, got {scenario!r}")
        if options.get("task_idx") is None:
            scenario, options["task_idx"] = self._draw(scenario)
        if scenario is not None:
            self._switch(scenario)
        if self.reward_mode == "endpoint_hit" and not self.scenario.extra.get("endpoint_tasks"):
            self.endpoint_target(0)  # raises the error that says where endpoint tasks come from
        observation, info = super().reset(options=options)
        if self.reward_mode == "endpoint_hit":
            info["endpoint_target"] = self.endpoint_target()
        return observation, info

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Run one action, as :meth:`AWMEnv.step`; in ``endpoint_hit`` mode the last step's reward is the hit."""
        return self._endpoint_reward(*super().step(action))

    def count_external_step(self, observation: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Count a wrapper-answered step, as :meth:`AWMEnv.count_external_step` (with the suite's reward)."""
        return self._endpoint_reward(*super().count_external_step(observation))

    def _endpoint_reward(
        self, observation: str, reward: Any, terminated: bool, truncated: bool, info: dict[str, Any]
    ) -> tuple[str, Any, bool, bool, dict[str, Any]]:
        if self.reward_mode == "endpoint_hit" and (terminated or truncated):
            target = self.endpoint_target()
            hit = any(step.get("kind") == "tool_call" and step.get("tool") == target for step in self.trajectory)
            info["endpoint_hit"] = {"target": target, "hit": hit}
            reward = 1.0 if hit else 0.0
        return observation, reward, terminated, truncated, info

    def verify(self, final_answer: str) -> VerifierResult:
        """The verifier's verdict (``endpoint_hit`` mode: ``unverifiable``, the verifier is not run)."""
        if self.reward_mode == "endpoint_hit":
            return VerifierResult(
                self.verifier.mode,
                "unverifiable",
                details={"error": "reward_mode='endpoint_hit': the reward is info['endpoint_hit'], not a verifier"},
            )
        return super().verify(final_answer)

    def close(self) -> None:
        """Stop every server this env holds and release the verifier connection (idempotent)."""
        while self._parked:
            self._parked.popitem()[1].close()
        super().close()
