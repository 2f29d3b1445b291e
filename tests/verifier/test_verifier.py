"""Verifier code runs out of process, limited and sandboxed; every failure is a label, never an exception."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest

from awm_gym.catalog import VerifierRecord
from awm_gym.errors import ConfigurationError
from awm_gym.llm import LLMEndpoint
from awm_gym.testing import ErrorReply, FakeOpenAIServer
from awm_gym.verifier import Verifier

HEADER = "import sqlite3, os, json\n"


def _record(body: str, mode: str = "code", name: str = "verify_task_completion") -> VerifierRecord:
    args = "initial_db_path, final_db_path, final_answer=None" if mode == "code" else "initial_db_path, final_db_path"
    code = HEADER + f"def {name}({args}):\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"
    return VerifierRecord(mode=mode, task_idx=0, code=code)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name, value in (("initial.db", 1), ("final.db", 2)):
        conn = sqlite3.connect(tmp_path / name)
        conn.execute("CREATE TABLE t (v INTEGER)")
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        conn.commit()
        conn.close()
    return tmp_path


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


class TestSandbox:
    def test_database_copies_are_the_only_writable_files(
        self, verifier: Verifier, workdir: Path, tmp_path_factory
    ) -> None:
        """Writing outside the job directory is refused and the file is not created."""
        outside = tmp_path_factory.mktemp("outside") / "leak.txt"
        result = _verify(
            verifier, _record(f"open({str(outside)!r}, 'w').write('x')\nreturn {{'result': 'complete'}}"), workdir
        )
        assert result.label == "error" and "PermissionError" in result.details["error"]
        assert not outside.exists()

    def test_other_databases_cannot_be_opened_or_attached(
        self, verifier: Verifier, workdir: Path, tmp_path_factory
    ) -> None:
        """sqlite3 may open the two copies only; ATTACH of another file is denied."""
        other = tmp_path_factory.mktemp("other") / "env.db"
        sqlite3.connect(other).execute("CREATE TABLE secret (x)")
        opened = _verify(
            verifier, _record(f"sqlite3.connect({str(other)!r})\nreturn {{'result': 'complete'}}"), workdir
        )
        assert opened.label == "error" and "not allowed" in opened.details["error"]
        attach = _record(
            f"sqlite3.connect(final_db_path).execute(\"ATTACH '{other}' AS x\")\nreturn {{'result': 'complete'}}"
        )
        attached = _verify(verifier, attach, workdir)
        assert attached.label == "error" and "too many attached databases" in attached.details["error"]

    def test_no_network(self, verifier: Verifier, workdir: Path) -> None:
        """A verifier cannot open a connection, even to loopback."""
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            listener.settimeout(0.5)
            port = listener.getsockname()[1]
            record = _record(
                f"import socket\nsocket.create_connection(('127.0.0.1', {port}))\nreturn {{'result': 'complete'}}"
            )
            result = _verify(verifier, record, workdir)
            with pytest.raises(TimeoutError):
                listener.accept()
        assert result.label == "error" and "socket" in result.details["error"]

    def test_no_processes_or_signals(self, verifier: Verifier, workdir: Path) -> None:
        """subprocess, os.system and os.kill are refused."""
        for body in ("import subprocess\nsubprocess.run(['true'])", "os.system('true')", "os.kill(os.getppid(), 9)"):
            result = _verify(verifier, _record(body + "\nreturn {'result': 'complete'}"), workdir)
            assert result.label == "error" and "not allowed" in result.details["error"], body


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
            verifier = Verifier("sql", judge=LLMEndpoint(server.base_url, "judge", max_retries=0))
            labels = [_verify(verifier, record, workdir, "done").label for _ in range(5)]
            verifier.close()
            first = server.requests[0]["messages"][1]["content"]
        assert labels == ["complete", "agent_error", "error", "error", "error"]
        assert '"v": 2' in first and "v became 2" in first and "v unchanged" in first
