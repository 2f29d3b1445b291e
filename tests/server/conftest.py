"""Fixtures of the server tests: one real server per module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the server tests import serving by name

from serving import SCENARIO, Running, start_server, stop_server  # noqa: E402

from awm_gym.envs import AWMEnv  # noqa: E402
from awm_gym.server import ServeConfig  # noqa: E402


@pytest.fixture(scope="module")
def served() -> Iterator[Running]:
    """One server for the module: the pet clinic, 8 sessions, generous limits."""
    running, server, thread = start_server(
        ServeConfig(scenarios=[SCENARIO], max_sessions=8, max_argument_bytes=4096, max_request_bytes=64 << 10)
    )
    yield running
    stop_server(server, thread)


@pytest.fixture(scope="module")
def reference_env() -> Iterator[AWMEnv]:
    """The same scenario in process: the ground truth for tools and texts."""
    env = AWMEnv(SCENARIO)
    env.reset(options={"task_idx": 3})
    yield env
    env.close()
