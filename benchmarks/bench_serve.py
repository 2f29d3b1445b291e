"""``awm-gym serve`` through real clients on loopback, side by side with the in-process env, in one run.

Measured for the in-process :class:`~awm_gym.envs.AWMEnv`, OpenEnv's protocol (``openenv-core``'s
``MCPToolClient``) and the MCP endpoint (the official ``mcp`` client), on the pet clinic scenario:

- session start (a new env: first reset included), reset (OpenEnv and in-process; an MCP session picks its
  episode at start), a read tool call, a write tool call (an INSERT), and the end of the episode with the
  verifier's reward;
- N sessions ready at once from a cold server (fresh process, no zygote yet), and the USS each adds.

The server runs as ``awm-gym serve`` in its own process, as a user runs it. OpenEnv's own AWM environment,
measured in process on this machine class (before any server hop), is quoted for comparison: reset 1.67 s,
read 3.8 ms, write 10.7 ms, verify 40 ms + done 220 ms, 32 envs ready from cold 20.3 s, 71 MiB USS a session.

Full run:  python benchmarks/bench_serve.py --repeats 30 --sessions 64
Smoke run: python benchmarks/bench_serve.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _common import descendants, publish, pyplot, save_figure  # noqa: E402 - benchmarks/_common.py, beside this script
from machine import conditions, cpu_times  # noqa: E402 - benchmarks/machine.py

SCENARIO = "awmgym_pet_clinic"
TASK = 3
CALLS = 5  # reads and writes per episode (the first of each builds caches, as in any episode)
READ = ("list_my_pets", {})
OPENENV_AWM = {  # OpenEnv's AWM env in process on this machine class (issue 14)
    "reset_ms": 1670.0,
    "read_ms": 3.8,
    "write_ms": 10.7,
    "end_ms": 260.0,
    "ready_cold_s_32": 20.3,
    "uss_mib_per_session": 71.0,
}


def write_call(i: int) -> tuple[str, dict[str, Any]]:
    """A write: register a new pet (an INSERT), distinct per call."""
    return "register_pet", {"name": f"Bench{i}", "class": "reptile", "species": "Gecko", "primary_vet_id": 4}


def ms(seconds: float) -> float:
    return round(1000 * seconds, 3)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


async def atimed(coroutine: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = await coroutine
    return time.perf_counter() - start, value


# ------------------------------------------------------------------------------------------- server


class Server:
    """``awm-gym serve`` in a subprocess."""

    def __init__(self, max_sessions: int) -> None:
        command = [sys.executable, "-m", "awm_gym.cli", "serve", SCENARIO, "--port", "0"]
        command += ["--max-sessions", str(max_sessions), "--max-steps", "1000"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+) ", line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"awm-gym serve did not start: {line!r}")
        self.url = match.group(1)

    def uss_mib(self) -> float:
        """USS of the server and every descendant (MiB)."""
        return sum(_uss(pid) for pid in [self.process.pid, *descendants(self.process.pid)]) / 2**20

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _uss(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return sum(int(v) * 1024 for k, v in re.findall(r"^(Private_Clean|Private_Dirty):\s+(\d+) kB", text, re.M))


# --------------------------------------------------------------------------------------- per episode


def in_process(repeats: int) -> dict[str, list[float]]:
    from awm_gym.envs import AWMEnv

    times: dict[str, list[float]] = {k: [] for k in ("start", "reset", "read", "write", "end")}
    for i in range(repeats):
        start, env = timed(lambda: AWMEnv(SCENARIO, max_steps=1000))
        t, _ = timed(lambda env=env: env.reset(options={"task_idx": TASK}))
        times["start"].append(start + t)
        times["reset"].append(timed(lambda env=env: env.reset(options={"task_idx": TASK}))[0])
        for k in range(CALLS):
            read = json.dumps({"name": READ[0], "arguments": READ[1]})
            times["read"].append(timed(lambda env=env, read=read: env.step(read))[0])
            write = json.dumps(dict(zip(("name", "arguments"), write_call(i * CALLS + k), strict=True)))
            times["write"].append(timed(lambda env=env, write=write: env.step(write))[0])
        times["end"].append(timed(lambda env=env: env.step("Done."))[0])
        env.close()
    return times


async def openenv(url: str, repeats: int) -> dict[str, list[float]]:
    from openenv.core.env_server.mcp_types import CallToolAction
    from openenv.core.mcp_client import MCPToolClient

    times: dict[str, list[float]] = {k: [] for k in ("start", "reset", "read", "write", "end")}
    for i in range(repeats):
        env = MCPToolClient(base_url=url)
        start, _ = await atimed(env.reset(scenario=SCENARIO, task_idx=TASK))
        times["start"].append(start)
        t, reset = await atimed(env.reset(scenario=SCENARIO, task_idx=TASK))
        times["reset"].append(t)
        key = reset.observation.metadata["control_key"]
        for k in range(CALLS):
            times["read"].append((await atimed(env.step(CallToolAction(tool_name=READ[0], arguments=READ[1]))))[0])
            name, args = write_call(i * CALLS + k)
            times["write"].append((await atimed(env.step(CallToolAction(tool_name=name, arguments=args))))[0])
        end = CallToolAction(tool_name="done", arguments={"control_key": key, "final_answer": "Done."})
        t, result = await atimed(env.step(end))
        assert result.done, result
        times["end"].append(t)
        await env.close()
    return times


async def mcp(url: str, repeats: int) -> dict[str, list[float]]:
    import httpx
    from mcp.client import Client

    times: dict[str, list[float]] = {k: [] for k in ("start", "read", "write", "end")}
    async with httpx.AsyncClient(base_url=url) as http:
        for i in range(repeats):
            client = Client(f"{url}/mcp?scenario={SCENARIO}&task={TASK}")
            start = time.perf_counter()
            await client.__aenter__()
            await client.list_tools()
            times["start"].append(time.perf_counter() - start)
            for k in range(CALLS):
                times["read"].append((await atimed(client.call_tool(READ[0], READ[1])))[0])
                name, args = write_call(i * CALLS + k)
                times["write"].append((await atimed(client.call_tool(name, args)))[0])
            (session,) = [s for s in (await http.get("/sessions")).json()["sessions"] if s["protocol"] == "mcp"]
            t, response = await atimed(http.post(f"/sessions/{session['session_id']}/end", json={}))
            assert response.json()["done"], response.text
            times["end"].append(t)
            await client.__aexit__(None, None, None)
    return times


# ------------------------------------------------------------------------------------- many at once


async def ready_openenv(url: str, n: int) -> tuple[float, list[Any]]:
    from openenv.core.mcp_client import MCPToolClient

    clients = [MCPToolClient(base_url=url, message_timeout_s=600) for _ in range(n)]
    t, _ = await atimed(asyncio.gather(*(c.reset(scenario=SCENARIO, task_idx=TASK) for c in clients)))
    return t, clients


async def ready_mcp(url: str, n: int) -> tuple[float, list[asyncio.Task[None]], asyncio.Event]:
    """Seconds until ``n`` MCP sessions listed their tools (each client lives in one task, as anyio requires)."""
    from mcp.client import Client

    ready, release = asyncio.Event(), asyncio.Event()
    count = 0

    async def one() -> None:
        nonlocal count
        async with Client(f"{url}/mcp?scenario={SCENARIO}&task={TASK}") as client:
            await client.list_tools()
            count += 1
            if count == n:
                ready.set()
            await release.wait()

    start = time.perf_counter()
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.wait([asyncio.create_task(ready.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.perf_counter() - start
    return elapsed, tasks, release


def many(n: int) -> dict[str, Any]:
    from awm_gym.envs import AWMEnv

    out: dict[str, Any] = {}
    for name, ready in (("openenv", ready_openenv), ("mcp", ready_mcp)):
        server = Server(max_sessions=n + 2)  # cold: a fresh server, no zygote yet
        try:
            base = server.uss_mib()

            async def run(ready: Any = ready, server: Server = server) -> tuple[float, float]:
                if ready is ready_mcp:
                    t, tasks, release = await ready(server.url, n)
                    uss = server.uss_mib()
                    release.set()
                    await asyncio.gather(*tasks)
                    return t, uss
                t, clients = await ready(server.url, n)
                uss = server.uss_mib()
                await asyncio.gather(*(client.close() for client in clients))
                return t, uss

            t, uss = asyncio.run(run())
            out[name] = {"ready_s": round(t, 3), "uss_mib_per_session": round((uss - base) / n, 2)}
        finally:
            server.stop()
    envs = []
    t, _ = timed(
        lambda: [envs.append(AWMEnv(SCENARIO)) or envs[-1].reset(options={"task_idx": TASK}) for _ in range(n)]
    )
    out["in_process"] = {"ready_s": round(t, 3), "note": "sequential, in this process (zygote warm)"}
    for env in envs:
        env.close()
    return out


# ------------------------------------------------------------------------------------------ report


def summary(times: dict[str, list[float]]) -> dict[str, float]:
    return {f"{k}_ms": ms(statistics.median(v)) for k, v in times.items() if v}


def markdown(results: dict[str, Any]) -> str:
    rows = results["per_episode_median"]
    lines = [
        "| operation | in-process | OpenEnv client (/ws) | MCP client (/mcp) | OpenEnv's AWM env, in-process |",
        "|---|---|---|---|---|",
    ]
    ref = {"start": None, "reset": "reset_ms", "read": "read_ms", "write": "write_ms", "end": "end_ms"}
    for op in ("start", "reset", "read", "write", "end"):
        cells = [rows[impl].get(f"{op}_ms") for impl in ("in_process", "openenv", "mcp")]
        quoted = OPENENV_AWM.get(ref[op] or "")
        lines.append(
            f"| {op} | "
            + " | ".join("-" if c is None else f"{c:.1f} ms" for c in cells)
            + " | "
            + ("-" if quoted is None else f"{quoted:g} ms")
            + " |"
        )
    n = results["config"]["sessions"]
    many_ = results["many"]
    lines.append(
        f"| {n} sessions ready (cold) | {many_['in_process']['ready_s']:.2f} s (warm, sequential) | "
        f"{many_['openenv']['ready_s']:.2f} s | {many_['mcp']['ready_s']:.2f} s | "
        f"{OPENENV_AWM['ready_cold_s_32']} s (32 envs) |"
    )
    lines.append(
        f"| USS per session | - | {many_['openenv']['uss_mib_per_session']:.1f} MiB | "
        f"{many_['mcp']['uss_mib_per_session']:.1f} MiB | {OPENENV_AWM['uss_mib_per_session']:g} MiB |"
    )
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    ops = ["reset", "read", "write", "end"]
    fig, ax = pyplot().subplots(figsize=(8, 4))
    width = 0.2
    for k, impl in enumerate(("in_process", "openenv", "mcp")):
        values = [results["per_episode_median"][impl].get(f"{op}_ms") or 0 for op in ops]
        ax.bar([i + k * width for i in range(len(ops))], values, width, label=impl)
    quoted = [OPENENV_AWM[f"{op}_ms"] for op in ops]
    ax.bar([i + 3 * width for i in range(len(ops))], quoted, width, label="OpenEnv AWM (quoted)")
    ax.set_xticks([i + 1.5 * width for i in range(len(ops))], ops)
    ax.set_yscale("log")
    ax.set_ylabel("median ms (log)")
    ax.set_title("awm-gym serve on loopback vs in-process")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets for a smoke test")
    parser.add_argument("--repeats", type=int, default=None, help="episodes per client (default 30)")
    parser.add_argument("--sessions", type=int, default=None, help="sessions ready at once (default 64)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 30)
    args.sessions = args.sessions or (4 if args.quick else 64)
    import awm_gym

    cpu_at_start = cpu_times()
    print("per episode: in process ...", file=sys.stderr, flush=True)
    per_episode = {"in_process": in_process(args.repeats)}
    server = Server(max_sessions=8)
    try:
        print("per episode: OpenEnv client ...", file=sys.stderr, flush=True)
        per_episode["openenv"] = asyncio.run(openenv(server.url, args.repeats))
        print("per episode: MCP client ...", file=sys.stderr, flush=True)
        per_episode["mcp"] = asyncio.run(mcp(server.url, args.repeats))
    finally:
        server.stop()
    print(f"{args.sessions} sessions at once ...", file=sys.stderr, flush=True)
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "awm_gym": awm_gym.__version__,
            "platform": platform.platform(),
        },
        "config": {"repeats": args.repeats, "sessions": args.sessions, "scenario": SCENARIO, "task": TASK},
        "per_episode_median": {impl: summary(t) for impl, t in per_episode.items()},
        "many": many(args.sessions),
        "openenv_awm_quoted": OPENENV_AWM,
    }
    results["machine"]["during_run"] = conditions(cpu_at_start)
    results["markdown"] = markdown(results)
    publish(results, args.out, "bench_serve", plot)
    return results


if __name__ == "__main__":
    main()
