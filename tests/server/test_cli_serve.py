"""``awm-gym serve`` as a user runs it: prints where it listens, serves, stops on SIGTERM with everything reaped."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import threading

import httpx
import pytest
from helpers import assert_gone, children_of
from openenv.core.mcp_client import MCPToolClient
from serving import SCENARIO


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_address_and_stops_cleanly(stop: signal.Signals) -> None:
    """The first line names the URL; SIGTERM or Ctrl-C ends it with exit 0 and no process left behind."""
    process = subprocess.Popen(
        [sys.executable, "-m", "awm_gym.cli", "serve", SCENARIO, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+) \(OpenEnv (ws://\S+/ws), MCP (\S+/mcp);", line)
        assert match, f"unexpected first line: {line!r}"
        url = match.group(1)
        assert httpx.get(url + "/health", timeout=30).json()["status"] == "healthy"

        async def open_session() -> tuple[MCPToolClient, str]:
            env = MCPToolClient(base_url=url)
            reset = await env.reset(task_idx=0)  # the only scenario served is the default
            return env, reset.observation.metadata["scenario"]

        loop = asyncio.new_event_loop()  # running in a thread, so the client answers the server's close
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        env, scenario = asyncio.run_coroutine_threadsafe(open_session(), loop).result(timeout=60)
        assert scenario == SCENARIO
        descendants = children_of(process.pid)
        descendants += [pid for child in descendants for pid in children_of(child)]
        assert descendants, "a session's env should have started processes"
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
        asyncio.run_coroutine_threadsafe(env.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        assert process.returncode == 0, err
        assert "every session was closed" in out
        assert_gone(descendants)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
