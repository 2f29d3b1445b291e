"""Offline mode: a synthetic student and expert on a loopback OpenAI-compatible server. A SIMULATION.

Nothing here measures a model. The simulation exists so that the whole evaluation path (conditions, the
wrapper stacks, the OpenAI client, the rollout driver, the statistics, the outputs) runs and is tested
without a GPU or an API key, and so that its numbers have a known cause:

- the **student** replays the task's reference solution but corrupts each call with probability ``noise``
  (a wrong tool name, or wrong argument values); after a failed call it retries, and after two failures in
  a row it gives up with a final answer, unless ``ask_expert`` is among its tools: then it asks the expert
  after each failure and follows the advice;
- the **expert** reads the trajectory from its prompt and names the next call of the reference solution
  (a stand-in for a verifier-informed frontier model).

The student's random draws depend on the request's ``seed`` (the repeat's seed, which every condition
shares), the task and the state of the episode, so two conditions see the same luck on the same
repeat until their trajectories differ. Every condition built here has ``simulation=True``, and every
output of an evaluation with such a condition says "SIMULATION".
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from awm_gym.catalog import ReferenceSolution, load_reference_solutions, load_scenario
from awm_gym.envs.actions import ToolCall, parse_action
from awm_gym.evaluation.conditions import Condition
from awm_gym.wrappers.chat import TOOL_RESPONSE_PREFIX
from awm_gym.wrappers.expert_advice import ASK_EXPERT

__all__ = ["SIMULATION_LABEL", "Simulation"]

SIMULATION_LABEL = "SIMULATION (synthetic student and expert; not a measurement of any model)"
"""The label every output of an evaluation with a simulated condition carries."""

_ERROR_PREFIXES = ("Unknown tool", "Input validation error", "Error calling", "Invalid action", "Invalid arguments")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_TASK_LINE = "The agent's task (acting for user_id 1): "
_STEP_LINE = re.compile(r"^(\d+)\. (.*)$")
_GIVE_UP = "I could not complete the task."


def _progress(solution: ReferenceSolution, attempts: list[tuple[str, Any, str]]) -> tuple[int, int, bool]:
    """From ``(tool, arguments, result)`` attempts: solution calls done right, tries at the next one, last failed."""
    done = tries = 0
    failed = False
    for name, arguments, result in attempts:
        expected = solution.calls[done] if done < len(solution.calls) else None
        right = expected is not None and (name, arguments) == (expected["name"], expected["arguments"])
        if right and not result.startswith(_ERROR_PREFIXES):
            done, tries, failed = done + 1, 0, False
        else:
            tries, failed = tries + 1, True
    return done, tries, failed


def _tool_call(call: Mapping[str, Any]) -> str:
    return f"<tool_call>{json.dumps({'name': call['name'], 'arguments': call['arguments']})}</tool_call>"


class Simulation:
    """The synthetic student (model ``student``) and expert (model ``expert``) on a :class:`FakeOpenAIServer`.

    Example:
        >>> from awm_gym.evaluation import Simulation
        >>> with Simulation(noise=0.3) as simulation:
        ...     [c.name for c in simulation.conditions()], simulation.conditions()[0].simulation
        (['baseline', 'expert'], True)

    Args:
        noise: The chance that the student corrupts a call.
        solutions: Reference solutions keyed by ``(scenario, task_idx)`` (default: the bundled ones); a task
            without one makes the student give up at once.
        data_dir: Where the solutions' scenarios load from (default: the usual sources).
    """

    def __init__(
        self,
        *,
        noise: float = 0.3,
        solutions: Mapping[tuple[str, int], ReferenceSolution] | None = None,
        data_dir: str | None = None,
    ) -> None:
        from awm_gym.errors import ConfigurationError

        if not 0.0 <= noise <= 1.0:
            raise ConfigurationError(f"noise must be a probability in [0, 1], got {noise!r}")
        self.noise = float(noise)
        solutions = load_reference_solutions() if solutions is None else solutions
        self._by_task: dict[str, ReferenceSolution] = {}
        for (scenario, task_idx), solution in solutions.items():
            self._by_task[load_scenario(scenario, data_dir).tasks[task_idx]] = solution
        self._server: Any = None

    # -------------------------------------------------------------------------------------- lifecycle

    def start(self) -> Simulation:
        """Start the loopback server (idempotent)."""
        if self._server is None:
            from awm_gym.testing import FakeOpenAIServer

            self._server = FakeOpenAIServer(responder=self).start()
        return self

    def close(self) -> None:
        """Stop the server (idempotent)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Simulation:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """The server's base URL (the simulation starts when asked)."""
        return str(self.start()._server.base_url)

    def conditions(self, *, shaping: str | None = "expert_in_the_loop", max_expert_calls: int = 5) -> list[Condition]:
        """``baseline`` (the student alone) and ``expert`` (the student with the synthetic expert)."""
        from awm_gym.wrappers import OpenAIExpert

        class SimulatedExpert(OpenAIExpert):
            def __repr__(self) -> str:  # the loopback port changes every run; resuming compares this text
                return "SimulatedExpert(model='expert', base_url='loopback (simulation)')"

        student = {"base_url": self.base_url, "model": "student", "temperature": 0.0, "simulation": True}
        about = f"synthetic student, noise {self.noise}"
        return [
            Condition("baseline", **student, shaping=shaping, description=about),
            Condition(
                "expert",
                **student,
                shaping=shaping,
                expert=SimulatedExpert(base_url=self.base_url, model="expert"),
                expert_options={"max_calls": max_expert_calls},
                description=f"{about}; synthetic expert naming the reference solution's next call",
            ),
        ]

    # ------------------------------------------------------------------------------------- responders

    def __call__(self, request: dict[str, Any]) -> str:
        """Answer one chat-completion request (the server's responder)."""
        return self.student(request) if request.get("model") == "student" else self.expert(request)

    def student(self, request: dict[str, Any]) -> str:
        """The student's next turn, from the conversation so far."""
        messages = request["messages"]
        solution = self._by_task.get(messages[1]["content"]) if len(messages) > 1 else None
        if solution is None:
            return _GIVE_UP
        attempts: list[tuple[str, Any, str]] = []
        advice = None
        for index, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            call = parse_action(message.get("content") or "")
            if not isinstance(call, ToolCall):
                continue
            result = messages[index + 1]["content"] if index + 1 < len(messages) else ""
            result = result.removeprefix(TOOL_RESPONSE_PREFIX)
            if call.name == ASK_EXPERT:
                advice = result
            else:
                attempts.append((call.name, call.arguments, result))
                advice = None
        done, tries, failed = _progress(solution, attempts)
        if done == len(solution.calls):
            return solution.final_answer
        if advice is not None and (match := _JSON_OBJECT.search(advice)):
            return f"<tool_call>{match.group(0)}</tool_call>"
        if failed and f'"{ASK_EXPERT}"' in messages[0]["content"]:
            question = {"question": "My last call failed. What exactly should I call next?"}
            return _tool_call({"name": ASK_EXPERT, "arguments": question})
        if failed and tries >= 2:
            return _GIVE_UP
        call = solution.calls[done]
        seed = request.get("seed", 0)
        rng = random.Random(f"{seed}|{messages[1]['content']}|{done}|{tries}|{len(messages)}")
        if rng.random() < self.noise:  # a wrong tool name, or wrong argument values
            if rng.random() < 0.5:
                return _tool_call({"name": call["name"] + "_v2", "arguments": call["arguments"]})
            return _tool_call({"name": call["name"], "arguments": {k: "?" for k in call["arguments"]} or {"x": 1}})
        return _tool_call(call)

    def expert(self, request: dict[str, Any]) -> str:
        """The expert's advice: the next call of the reference solution, read off the prompt's trajectory."""
        lines = request["messages"][-1]["content"].splitlines()
        task = lines[0].removeprefix(_TASK_LINE) if lines and lines[0].startswith(_TASK_LINE) else ""
        solution = self._by_task.get(task)
        if solution is None:
            return "I do not know this task."
        attempts = []
        for index, line in enumerate(lines):
            step = _STEP_LINE.match(line)
            call = parse_action(step.group(2)) if step is not None else None
            if isinstance(call, ToolCall):
                following = lines[index + 1] if index + 1 < len(lines) else ""
                attempts.append((call.name, call.arguments, following.removeprefix("   -> ")))
        done, _, _ = _progress(solution, attempts)
        if done >= len(solution.calls):
            return "You have what you need: give your final answer now."
        return "Call exactly this next: " + json.dumps(solution.calls[done])
