"""Serving a task set: only its (scenario, task) pairs, drawn when a reset names none."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from openenv.core.mcp_client import MCPToolClient
from serving import SCENARIO, Running, start_server, stop_server

from awm_gym.catalog import TaskSet
from awm_gym.server import ServeConfig

PAIRS = [(SCENARIO, 1), (SCENARIO, 4)]


@pytest.fixture(scope="module")
def split_served() -> Iterator[Running]:
    """A server of two pet-clinic tasks only."""
    running, server, thread = start_server(ServeConfig(tasks=TaskSet(PAIRS, name="test"), max_sessions=4))
    yield running
    stop_server(server, thread)


def test_reset_without_a_task_draws_from_the_set(split_served: Running) -> None:
    """Resets that name nothing land on the set's pairs, reproducibly for a seed."""

    async def go() -> list[tuple[str, int]]:
        drawn = []
        async with MCPToolClient(base_url=split_served.url) as env:
            for seed in (0, 1, 2, 3, 0):
                metadata = (await env.reset(seed=seed)).observation.metadata
                drawn.append((metadata["scenario"], metadata["task_idx"]))
        return drawn

    drawn = asyncio.run(go())
    assert set(drawn) <= set(PAIRS) and drawn[0] == drawn[-1]


def test_a_pair_outside_the_set_is_refused(split_served: Running) -> None:
    """Asking for a task the set does not hold is an error that says how to get one that it does."""

    async def go() -> str:
        async with MCPToolClient(base_url=split_served.url) as env:
            with pytest.raises(RuntimeError) as caught:
                await env.reset(scenario=SCENARIO, task_idx=0)
            assert (await env.reset(scenario=SCENARIO, task_idx=4)).observation.metadata["task_idx"] == 4
            return str(caught.value)

    message = asyncio.run(go())
    assert "is not in the served task set test (2 tasks of 1 scenarios)" in message
