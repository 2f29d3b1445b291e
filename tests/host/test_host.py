"""The sub-environment host with real server processes, real SQLite files and real HTTP."""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest
from helpers import pid_alive, wait_gone

from awm_gym.catalog import load_scenario, parse_scenario
from awm_gym.errors import SubEnvClosedError, SubEnvStartError
from awm_gym.host import HostState, SubEnvHost
from awm_gym.host.process import collect_exited


@pytest.fixture(scope="module")
def shop(release_dir: Path):
    return load_scenario("tiny_shop_1", release_dir)


@pytest.fixture(scope="module")
def host(shop):
    with SubEnvHost(shop, tool_timeout=1.0) as host:
        host.reset()
        yield host


def _order_count(host: SubEnvHost) -> int:
    return sqlite3.connect(host.database_path).execute("SELECT COUNT(*) FROM orders").fetchone()[0]


def test_calls_reach_the_real_app_and_write_the_real_file(host: SubEnvHost) -> None:
    """A write tool changes the SQLite file; the result is the app's JSON, pretty-printed."""
    host.reset()
    result = host.call_tool("place_order", {"product_id": 3, "quantity": 2})
    assert result.error is None and result.status == 200
    assert json.loads(result.text)["status"] == "placed"
    assert _order_count(host) == 3


def test_reset_restores_the_template_without_a_new_process(host: SubEnvHost) -> None:
    """Reset brings the database back to the template; the server process stays the same."""
    host.reset()
    pid, before = host.server_pid, _order_count(host)
    host.call_tool("place_order", {"product_id": 1})
    host.call_tool("cancel_order", {"order_id": 1})
    host.reset()
    assert (_order_count(host), host.server_pid) == (before, pid)
    assert json.loads(host.call_tool("list_my_orders", {}).text)[0]["status"] == "placed"


def test_app_errors_are_results(host: SubEnvHost) -> None:
    """An exception in a handler is a 500 result in fastapi-mcp's words; a 422 counts as invalid arguments."""
    result = host.call_tool("explode", {})
    assert (result.text, result.error) == (
        "Error calling explode. Status code: 500. Response: Internal Server Error",
        "http_error",
    )
    assert "RuntimeError: kaboom" in host.log_tail()
    assert host.call_tool("place_order", {"product_id": 1, "quantity": 0}).error == "invalid_arguments"


def test_crashed_server_is_detected_and_replaced(host: SubEnvHost) -> None:
    """A server that exits mid-call gives a server_crash result; the next call runs on a fresh server, same data."""
    host.reset()
    host.call_tool("place_order", {"product_id": 3})
    pid = host.server_pid
    result = host.call_tool("crash_server", {})
    assert result.error == "server_crash" and host.state is HostState.DEAD
    assert wait_gone([pid]) == []
    assert len(json.loads(host.call_tool("list_my_orders", {}).text)) == 2  # the order placed before the crash
    assert host.server_pid != pid and host.state is HostState.RUNNING


def test_cooperative_timeout_keeps_the_server(host: SubEnvHost) -> None:
    """A slow awaiting handler is cancelled after tool_timeout; the server survives."""
    pid = host.server_pid
    result = host.call_tool("slow_call", {"seconds": 5})
    assert result.error == "timeout" and "timed out after 1 s" in result.text
    assert host.server_pid == pid and host.call_tool("get_product", {"product_id": 1}).error is None


def test_hung_server_is_killed_and_replaced(host: SubEnvHost) -> None:
    """A handler that blocks the server's loop gets no answer in time: the server is killed and replaced."""
    pid = host.server_pid
    result = host.call_tool("block_server", {"seconds": 30})
    assert result.error == "timeout"
    assert wait_gone([pid]) == []
    host.reset()
    assert host.call_tool("get_product", {"product_id": 1}).error is None


def test_http_transport_is_real_uvicorn_over_a_unix_socket(shop, host: SubEnvHost) -> None:
    """The server's uvicorn listener answers plain HTTP, and the http transport gives the channel's results."""
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(host.socket_path)), base_url="http://x") as client:
        response = client.get("/products", params={"limit": 1})
    assert response.status_code == 200 and response.headers["server"] == "uvicorn"
    with SubEnvHost(shop, transport="http") as http_host:
        http_host.reset()
        host.reset()
        for name, args in [
            ("list_products", {"class": "kitchen"}),
            ("get_product", {"product_id": 9}),
            ("explode", {}),
        ]:
            assert http_host.call_tool(name, args) == host.call_tool(name, args)


def test_close_without_waiting_still_reaps_the_server(shop) -> None:
    """close(wait=False) returns once the server is killed; it still exits and its pid fd is closed."""
    host = SubEnvHost(shop)
    host.reset()
    pid, workdir = host.server_pid, host.workdir
    host.close(wait=False)
    assert not workdir.exists() and host.state is HostState.CLOSED
    assert wait_gone([pid]) == [] and collect_exited(2.0) == 0
    with pytest.raises(SubEnvClosedError, match="closed"):
        host.call_tool("list_products", {})


def test_close_reaps_the_server_and_files(shop) -> None:
    """close() ends the server process and removes the episode directory; later use is a typed error."""
    host = SubEnvHost(shop)
    host.reset()
    pid, workdir = host.server_pid, host.workdir
    host.close()
    host.close()  # idempotent
    assert not pid_alive(pid) and not workdir.exists()
    with pytest.raises(SubEnvClosedError, match="closed"):
        host.reset()


def test_garbage_collection_reaps_the_server(shop) -> None:
    """A host dropped without close() still ends its server."""
    host = SubEnvHost(shop)
    host.reset()
    pid = host.server_pid
    del host
    gc.collect()
    assert wait_gone([pid]) == []


def test_broken_scenario_code_is_a_start_error_with_the_traceback() -> None:
    """Code that fails to import raises SubEnvStartError carrying the scenario's own traceback."""
    broken = parse_scenario(
        "broken_app",
        {
            "tasks": {"tasks": ["t"]},
            "db": {"db_schema": {"tables": []}},
            "envs": {
                "full_code": "import os\nfrom fastapi import FastAPI\napp = FastAPI()\nraise ImportError('no module named unicorn_magic')\n"
            },
        },
    )
    with SubEnvHost(broken) as host, pytest.raises(SubEnvStartError, match="unicorn_magic"):
        host.reset()


def test_many_hosts_work_concurrently_from_threads(shop) -> None:
    """Eight hosts reset and call tools from eight threads at once without mixing up databases."""
    hosts = [SubEnvHost(shop) for _ in range(8)]
    errors: list[BaseException] = []

    def episode(index: int) -> None:
        try:
            for _ in range(3):
                hosts[index].reset()
                for _ in range(index):
                    assert hosts[index].call_tool("place_order", {"product_id": 1}).error is None
                assert _order_count(hosts[index]) == 2 + index
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=episode, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host in hosts:
        host.close()
    assert errors == []


def test_hosts_work_from_an_asyncio_loop(shop) -> None:
    """Hosts are driven from a running event loop through to_thread (no event-loop tricks inside)."""

    async def main() -> list[str | None]:
        hosts = [SubEnvHost(shop) for _ in range(4)]
        try:
            await asyncio.gather(*(asyncio.to_thread(h.reset) for h in hosts))
            results = await asyncio.gather(
                *(asyncio.to_thread(h.call_tool, "get_product", {"product_id": 2}) for h in hosts)
            )
            return [r.error for r in results]
        finally:
            for h in hosts:
                h.close()

    assert asyncio.run(main()) == [None] * 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"transport": "grpc"}, "transport must be 'channel' or 'http', got 'grpc'"),
        ({"tool_timeout": 0}, "tool_timeout must be a positive number of seconds, got 0"),
    ],
)
def test_bad_options_are_configuration_errors(shop, options: dict, message: str) -> None:
    """A bad transport or timeout is awm-gym's ConfigurationError (still a ValueError), naming the value."""
    from awm_gym.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        SubEnvHost(shop, **options)
    assert message in str(caught.value)
