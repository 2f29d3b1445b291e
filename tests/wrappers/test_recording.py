"""RecordEpisodes on real scenarios: what a line holds, safe appends, partial episodes, and replay."""

from __future__ import annotations

import functools
import gc
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import pytest
from wrapping import advise as expert
from wrapping import ask as tagged_ask
from wrapping import mask_clock, run

import awm_gym  # noqa: F401 - registers the scenarios
from awm_gym.catalog.solutions import load_reference_solutions
from awm_gym.errors import DataFormatError, SubEnvClosedError
from awm_gym.wrappers import ChatMessages, ExpertAdvice, RecordEpisodes, RewardShaping, read_episodes, replay

ask = functools.partial(tagged_ask, tagged=False)  # the plain JSON form

SCENARIO = "AWM/awmgym_pet_clinic-v0"
SOLUTIONS = load_reference_solutions()
READ_ONLY = SOLUTIONS["awmgym_pet_clinic", 1].actions()  # lists invoices
WRITE = SOLUTIONS["awmgym_pet_clinic", 3].actions()  # cancels an appointment


@pytest.fixture(scope="module")
def base() -> Iterator[gym.Env]:
    env = gym.make(SCENARIO, max_steps=10)
    yield env
    env.close()


@pytest.fixture
def fresh() -> Iterator[gym.Env]:
    """A new env of the same scenario (its server shares the zygote, so it is cheap)."""
    env = gym.make(SCENARIO, max_steps=10)
    yield env
    env.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "episodes.jsonl"


class TestRecord:
    def test_a_finished_episode_is_one_line_with_everything(self, base: gym.Env, path: Path) -> None:
        env = RecordEpisodes(RewardShaping(base, step=-0.01), path)
        obs, info = env.reset(seed=0, options={"task_idx": 1})
        results = [env.step(action) for action in READ_ONLY]
        [episode] = read_episodes(path)
        assert episode["version"] == 1 and episode["partial"] is False and episode["partial_reason"] is None
        assert (episode["scenario"], episode["task_idx"], episode["task"]) == ("awmgym_pet_clinic", 1, info["task"])
        assert episode["tools"] == info["tools"] and episode["seed"] == 0 and episode["options"] == {"task_idx": 1}
        assert episode["observation_format"] == "text" and episode["reset_observation"] == obs
        assert [step["action"] for step in episode["steps"]] == READ_ONLY
        assert [step["observation"] for step in episode["steps"]] == [r[0] for r in results]
        assert episode["steps"][1]["verifier"]["label"] == "complete" == episode["verifier"]["label"]
        assert episode["final_answer"] == READ_ONLY[-1]
        assert (episode["terminated"], episode["truncated"], episode["length"]) == (True, False, 2)
        assert episode["shaped_return"] == pytest.approx(0.98) and episode["unshaped_return"] == 1.0
        [tool_call] = episode["tool_calls"]
        assert tool_call["step"] == 1 and tool_call["name"] == "list_my_invoices" and tool_call["latency_s"] > 0
        assert tool_call["error"] is None and episode["expert_calls"] == [] and episode["expert_available"] is None
        assert [m["role"] for m in episode["messages"]] == ["system", "user", "assistant", "user", "assistant"]
        assert episode["messages"][3]["content"] == f"Tool response:\n{results[0][0]}"
        assert "latency_s" not in json.dumps(results[0][4])

    def test_each_episode_appends_one_line(self, base: gym.Env, path: Path) -> None:
        env = RecordEpisodes(base, path)
        for task_idx in (1, 0):
            run(env, ["I do not know."], task_idx)
        assert [episode["task_idx"] for episode in read_episodes(path)] == [1, 0]


class TestReplay:
    def test_a_recorded_episode_replays_on_a_fresh_env(self, base: gym.Env, fresh: gym.Env, path: Path) -> None:
        run(RecordEpisodes(base, path), READ_ONLY, 1)
        [episode] = read_episodes(path)
        result = replay(episode, fresh)
        assert result.ok and result.steps == 2 and result.mismatches == ()
        assert result.verifier == episode["verifier"] and result.verifier["label"] == "complete"

    def test_a_write_episode_replays_up_to_the_servers_clock(self, base: gym.Env, fresh: gym.Env, path: Path) -> None:
        run(RecordEpisodes(base, path), WRITE, 3)
        [episode] = read_episodes(path)
        result = replay(episode, fresh, normalize=mask_clock)
        assert result.ok and result.verifier["label"] == "complete"

    def test_differences_are_reported(self, base: gym.Env, fresh: gym.Env, path: Path) -> None:
        run(RecordEpisodes(base, path), READ_ONLY, 1)
        [episode] = read_episodes(path)
        episode["steps"][0]["observation"] = "something else"
        episode["verifier"] = {**episode["verifier"], "label": "others"}
        result = replay(episode, fresh)
        assert not result.ok and not result.verdict_matches
        assert [m["step"] for m in result.mismatches] == [1]
        assert result.mismatches[0]["expected"] == "something else"

    def test_a_chat_recording_replays_on_a_chat_env(self, base: gym.Env, fresh: gym.Env, path: Path) -> None:
        """Above ChatMessages the record holds the messages the model saw, and each step's new messages."""
        calls = [
            {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "function": call}]}
            for i, call in enumerate(SOLUTIONS["awmgym_pet_clinic", 1].calls)
        ]
        steps = run(RecordEpisodes(ChatMessages(base), path), [*calls, READ_ONLY[-1]], 1)
        [episode] = read_episodes(path)
        assert episode["observation_format"] == "messages" and episode["messages"] == steps[-1][0]
        assert [m["role"] for m in episode["steps"][0]["observation"]] == ["assistant", "tool"]
        assert episode["steps"][-1]["observation"] == [{"role": "assistant", "content": READ_ONLY[-1]}]
        assert replay(episode, ChatMessages(fresh)).ok


class TestExpertCalls:
    @pytest.mark.parametrize("recorder_above", [True, False], ids=["recorder_above", "recorder_below"])
    def test_expert_calls_are_recorded_wherever_the_recorder_sits(
        self, base: gym.Env, fresh: gym.Env, path: Path, recorder_above: bool
    ) -> None:
        if recorder_above:
            env: gym.Env = RecordEpisodes(ExpertAdvice(base, expert), path)
        else:
            env = ExpertAdvice(RecordEpisodes(base, path), expert)
        run(env, [ask("Where?"), READ_ONLY[0], ask("Done?"), READ_ONLY[1]], 1)
        [episode] = read_episodes(path)
        assert [step["expert"] for step in episode["steps"]] == [True, False, True, False]
        assert [(c["step"], c["question"], c["answer"], c["status"]) for c in episode["expert_calls"]] == [
            (1, "Where?", "Advice on: Where?", "answered"),
            (3, "Done?", "Advice on: Done?", "answered"),
        ]
        assert all(c["latency_s"] >= 0 for c in episode["expert_calls"])
        assert episode["expert_available"] is True
        assert [m["role"] for m in episode["messages"]].count("assistant") == 4
        if recorder_above:
            result = replay(episode, ExpertAdvice(fresh, expert))
        else:  # the recorder saw the env's own observations: replay on a bare env, skipping expert calls
            result = replay(episode, fresh)
            assert result.steps == 2
        assert result.ok

    def test_an_expert_call_ending_the_episode_is_replayed_on_a_bare_env(
        self, base: gym.Env, fresh: gym.Env, path: Path
    ) -> None:
        env = ExpertAdvice(RecordEpisodes(base, path), expert, count_toward_max_steps=True)
        run(env, [READ_ONLY[0]] + [ask()] * 9, 1)
        [episode] = read_episodes(path)
        assert episode["truncated"] and episode["verifier"]["label"] == "others" and not episode["partial"]
        result = replay(episode, fresh)
        assert result.ok and result.steps == 2  # the tool call, then the empty answer of the step limit
        base.unwrapped.max_steps = 10


class TestPartialEpisodes:
    def test_close_writes_the_episode_in_progress(self, fresh: gym.Env, path: Path) -> None:
        env = RecordEpisodes(fresh, path)
        run(env, [READ_ONLY[0]], 1)
        env.close()
        env.close()
        [episode] = read_episodes(path)
        assert episode["partial"] is True and episode["partial_reason"] == "close() was called before the episode ended"
        assert episode["length"] == 1 and episode["verifier"] is None and episode["terminated"] is False

    def test_a_reset_before_the_end_writes_it_as_partial(self, base: gym.Env, path: Path) -> None:
        env = RecordEpisodes(base, path)
        run(env, [READ_ONLY[0]], 1)
        run(env, READ_ONLY, 1)
        first, second = read_episodes(path)
        assert first["partial_reason"] == "reset() was called before the episode ended" and first["length"] == 1
        assert second["partial"] is False

    def test_an_exception_in_step_writes_it_and_propagates(self, fresh: gym.Env, path: Path) -> None:
        env = RecordEpisodes(fresh, path)
        run(env, [READ_ONLY[0]], 1)
        fresh.unwrapped.host.close()
        with pytest.raises(SubEnvClosedError):
            env.step(READ_ONLY[0])
        [episode] = read_episodes(path)
        assert episode["partial"] and episode["partial_reason"].startswith("step() raised SubEnvClosedError: ")
        assert episode["length"] == 1

    def test_garbage_collection_writes_it(self, fresh: gym.Env, path: Path) -> None:
        env = RecordEpisodes(fresh, path)
        run(env, [READ_ONLY[0]], 1)
        del env
        gc.collect()
        [episode] = read_episodes(path)
        assert episode["partial"] and episode["partial_reason"].startswith("the recorder was garbage-collected")


class TestFile:
    def test_a_rotated_file_is_recreated(self, base: gym.Env, path: Path) -> None:
        env = RecordEpisodes(base, path)
        run(env, ["First."], 1)
        os.rename(path, path.with_suffix(".jsonl.1"))
        run(env, ["Second."], 1)
        assert [e["final_answer"] for e in read_episodes(path.with_suffix(".jsonl.1"))] == ["First."]
        assert [e["final_answer"] for e in read_episodes(path)] == ["Second."]

    def test_recorders_sharing_a_file_append_whole_lines(self, base: gym.Env, fresh: gym.Env, path: Path) -> None:
        one, two = RecordEpisodes(base, path), RecordEpisodes(fresh, path)
        for _ in range(3):
            run(one, READ_ONLY, 1)
            run(two, ["No idea."], 0)
        assert [e["task_idx"] for e in read_episodes(path)] == [1, 0] * 3

    def test_a_line_that_is_not_a_record_is_reported(self, path: Path) -> None:
        path.parent.mkdir(parents=True)
        path.write_text('{"steps": []}\n\nnot json\n')
        with pytest.raises(DataFormatError, match=re.escape(f"{path}:3: not a JSON line")):
            read_episodes(path)


def test_a_killed_process_leaves_a_partial_record(tmp_path: Path) -> None:
    """After SIGKILL mid-episode, the journal becomes a partial record when the file is next opened."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    from awm_gym.wrappers import recover_partial_episodes

    path = tmp_path / "episodes.jsonl"
    script = textwrap.dedent(
        f"""
        import time, gymnasium as gym, awm_gym
        from awm_gym.wrappers import RecordEpisodes
        env = RecordEpisodes(gym.make("AWM/awmgym_pet_clinic-v0"), {str(path)!r})
        env.reset(seed=0, options={{"task_idx": 1}})
        env.step('{{"name": "list_my_invoices", "arguments": {{}}}}')
        env.step('{{"name": "no_such_tool", "arguments": {{}}}}')
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(root))
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not path.exists() or read_episodes(path) == []
    assert recover_partial_episodes(path) == 1
    [episode] = read_episodes(path)
    assert episode["partial"] and "died" in episode["partial_reason"]
    assert [s.get("tool_call", {}).get("name") for s in episode["steps"]] == ["list_my_invoices", "no_such_tool"]
    assert episode["tool_calls"][1]["error"]["type"] == "unknown_tool"
    assert list(tmp_path.glob("*.partial")) == [] and recover_partial_episodes(path) == 0
