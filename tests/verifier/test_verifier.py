"""Verifier code runs out of process, limited and sandboxed; every failure is a label, never an exception."""

from __future__ import annotations

import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from awm_gym.catalog import VerifierRecord
from awm_gym.errors import ConfigurationError, IsolationUnavailableError
from awm_gym.llm import LLMEndpoint
from awm_gym.testing import ErrorReply, FakeOpenAIServer
from awm_gym.verifier import (
    IsolationLevel,
    Verifier,
    VerifierConnection,
    isolation_level,
    prestart,
    runner,
    shutdown_worker,
    worker_pid,
)

HEADER = "import sqlite3, os, json\n"


def _record(body: str, mode: str = "code", name: str = "verify_task_completion") -> VerifierRecord:
    args = "initial_db_path, final_db_path, final_answer=None" if mode == "code" else "initial_db_path, final_db_path"
    code = HEADER + f"def {name}({args}):\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"
    return VerifierRecord(mode=mode, task_idx=0, code=code)


@pytest.fixture(scope="module")
def verifier():
    verifier = Verifier("code", timeout=2.0)
    yield verifier
    verifier.close()


def _verify(verifier: Verifier, record: VerifierRecord, workdir: Path, answer: str = ""):
    return verifier.verify(record, workdir=workdir, task="t", final_answer=answer, trajectory=[])


class TestCodeMode:
    def test_complete_and_others(self, verifier: Verifier, workdir: Path) -> None:
        """The result field decides: complete is complete, anything else is others."""
        record = _record(
            "v = sqlite3.connect(final_db_path).execute('SELECT v FROM t').fetchone()[0]\n"
            "return {'result': 'complete' if v == 2 and final_answer == 'two' else 'incomplete', 'v': v}"
        )
        done = _verify(verifier, record, workdir, "two")
        assert (done.label, done.result) == ("complete", {"result": "complete", "v": 2})
        assert _verify(verifier, record, workdir, "three").label == "others"

    def test_positional_parameters_with_other_names(self, verifier: Verifier, workdir: Path) -> None:
        """Without the canonical parameter names, the two paths are passed positionally (AWM's rule)."""
        code = (
            HEADER
            + "def verify_task_completion(a, b):\n    return {'result': 'complete' if a.endswith('initial.db') else 'x'}\n"
        )
        assert _verify(verifier, VerifierRecord("code", 0, code), workdir).label == "complete"

    def test_raising_verifier_is_an_error_label(self, verifier: Verifier, workdir: Path) -> None:
        """An exception becomes label error with its message and traceback."""
        result = _verify(verifier, _record("raise ValueError('bad data')"), workdir)
        assert result.label == "error" and result.details["error"] == "ValueError: bad data"
        assert "Traceback" in result.details["traceback"]

    def test_hanging_verifier_times_out(self, verifier: Verifier, workdir: Path) -> None:
        """An endless loop is killed at the wall-clock limit."""
        result = _verify(verifier, _record("while True:\n    pass"), workdir)
        assert result.label == "error" and "no result within 2 s" in result.details["error"]

    @pytest.mark.parametrize("value", ["'complete'", "None", "[1, 2]"])
    def test_garbage_return_is_an_error(self, verifier: Verifier, workdir: Path, value: str) -> None:
        """A verifier that returns anything but a dict gets label error."""
        result = _verify(verifier, _record(f"return {value}"), workdir)
        assert result.label == "error" and "expected a dict" in result.details["error"]

    def test_print_cannot_corrupt_the_result(self, verifier: Verifier, workdir: Path) -> None:
        """Printed text goes to the details' output, the result travels separately."""
        result = _verify(verifier, _record("print('{\"result\": \"complete\"}')\nreturn {'result': 'others'}"), workdir)
        assert result.label == "others" and '"complete"' in result.details["output"]

    def test_missing_code_is_unverifiable(self, verifier: Verifier, workdir: Path) -> None:
        """No code (or a stub under 10 characters) means unverifiable, not an error."""
        assert _verify(verifier, VerifierRecord("code", 0, None), workdir).label == "unverifiable"
        assert _verify(verifier, VerifierRecord("code", 0, "pass"), workdir).label == "unverifiable"
        assert _verify(verifier, None, workdir).label == "unverifiable"

    def test_memory_bomb_is_stopped(self, verifier: Verifier, workdir: Path) -> None:
        """The address-space limit stops a verifier that allocates without bound."""
        result = _verify(verifier, _record("x = bytearray(4 * 1024 ** 3)\nreturn {'result': 'complete'}"), workdir)
        assert result.label == "error" and "MemoryError" in result.details["error"]


class TestIsolation:
    """The attack suite is tests/verifier/test_attacks.py; these are the level, the opt-in and the answer guard."""

    def test_the_level_in_force_is_reported(self, verifier: Verifier, workdir: Path) -> None:
        """Every verdict names the isolation it ran under; here, as root on Linux, the strongest one."""
        level = isolation_level()
        result = _verify(verifier, _record("return {'result': 'complete'}"), workdir)
        assert result.isolation == result.to_info()["isolation"] == level.value
        assert level in (IsolationLevel.NAMESPACES, IsolationLevel.SECCOMP)

    def test_running_without_isolation_needs_an_opt_in_and_warns_once(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWM_GYM_VERIFIER_ISOLATION=none runs unisolated with one warning; an unknown value is refused."""
        monkeypatch.setattr(runner, "_warned_unisolated", False)
        monkeypatch.setenv("AWM_GYM_VERIFIER_ISOLATION", "none")
        shutdown_worker()
        try:
            verifier = Verifier("code", timeout=5.0)
            with pytest.warns(RuntimeWarning, match="without kernel isolation"):
                first = _verify(verifier, _record("return {'result': 'complete'}"), workdir)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                second = _verify(verifier, _record("return {'result': 'complete'}"), workdir)
            verifier.close()
            assert (first.label, first.isolation, second.isolation) == ("complete", "none", "none")
            monkeypatch.setenv("AWM_GYM_VERIFIER_ISOLATION", "chroot")
            shutdown_worker()
            with pytest.raises(IsolationUnavailableError, match="must be one of"):
                VerifierConnection().run(code="", function="f", workdir=workdir)
        finally:
            monkeypatch.delenv("AWM_GYM_VERIFIER_ISOLATION")
            shutdown_worker()

    def test_prestart_starts_the_worker_without_waiting(self) -> None:
        """prestart() (which every env calls when built) leaves a running worker behind."""
        shutdown_worker()
        assert worker_pid() is None
        prestart()
        assert worker_pid() is not None

    def test_more_concurrent_verifications_than_ready_sandboxes(self, workdir: Path) -> None:
        """Eight envs verifying at once each get their own sandbox and their own right answer."""
        record = _record(
            "v = sqlite3.connect(final_db_path).execute('SELECT v FROM t').fetchone()[0]\n"
            "return {'result': 'complete', 'echo': final_answer, 'v': v}"
        )
        verifiers = [Verifier("code", timeout=20.0) for _ in range(8)]
        try:
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda i: _verify(verifiers[i], record, workdir, f"env {i}"), range(8)))
        finally:
            for verifier in verifiers:
                verifier.close()
        assert [(r.label, r.result["echo"], r.result["v"]) for r in results] == [
            ("complete", f"env {i}", 2) for i in range(8)
        ]

    def test_a_forked_child_gets_its_own_worker(self, verifier: Verifier, workdir: Path) -> None:
        """A child forked after the parent verified (e.g. a vector env's worker) starts its own worker."""
        record = _record("return {'result': 'complete', 'pid': os.getpid()}")
        assert _verify(verifier, record, workdir).label == "complete"
        parent_worker = worker_pid()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            try:
                result = _verify(verifier, record, workdir)
                os.write(write, json.dumps([result.label, worker_pid()]).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as handle:
            label, child_worker = json.loads(handle.read())
        os.waitpid(child, 0)
        assert label == "complete" and child_worker not in (None, parent_worker)
        assert worker_pid() == parent_worker and _verify(verifier, record, workdir).label == "complete"

    def test_overlong_answers_are_not_verified(self, workdir: Path) -> None:
        """max_answer_length: a longer answer is others without running the verifier; shorter ones run."""
        verifier = Verifier("code", timeout=5.0, max_answer_length=50)
        record = _record("return {'result': 'complete' if '2' in final_answer else 'others'}")
        try:
            long = _verify(verifier, record, workdir, " ".join(str(n) for n in range(100)))
            short = _verify(verifier, record, workdir, "It is 2.")
        finally:
            verifier.close()
        assert long.label == "others" and "max_answer_length is 50" in long.details["error"]
        assert short.label == "complete"


class TestSqlMode:
    def test_sql_mode_needs_a_judge(self) -> None:
        """Without a judge endpoint, sql mode is a configuration error that says how to configure one."""
        with pytest.raises(ConfigurationError, match="judge_base_url"):
            Verifier("sql")

    def test_judge_decides_from_facts_and_criteria(self, workdir: Path) -> None:
        """The facts and the record's criteria reach the judge; its classification is the label."""
        raw = json.dumps({"success_criteria": "v became 2", "failure_criteria": "v unchanged"})
        record = VerifierRecord("sql", 0, _record("return {'v': 2}", mode="sql", name="verify_task").code, raw)
        with FakeOpenAIServer() as server:
            server.enqueue(json.dumps({"reasoning": "ok", "classification": "complete", "confidence_score": [90] * 4}))
            server.enqueue("Sure! " + json.dumps({"classification": "agent_error"}) + " hope that helps")
            server.enqueue("no json here")
            server.enqueue(json.dumps({"classification": "maybe"}))
            server.enqueue(*[ErrorReply(500, "judge down")] * 4)
            verifier = Verifier("sql", judge=LLMEndpoint(base_url=server.base_url, model="judge", max_retries=0))
            labels = [_verify(verifier, record, workdir, "done").label for _ in range(5)]
            verifier.close()
            first = server.requests[0]["messages"][1]["content"]
        assert labels == ["complete", "agent_error", "error", "error", "error"]
        assert '"v": 2' in first and "v became 2" in first and "v unchanged" in first
