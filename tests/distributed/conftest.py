"""A real Ray instance per test module: local (``ray.init``) or two nodes on this machine (``Cluster``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

ray = pytest.importorskip("ray")

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report from test runs
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no authentication token written to the home directory


def _temp_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    # Ray puts Unix sockets under its session directory: keep the path short (108 bytes at most).
    return str(tmp_path_factory.mktemp("ray", numbered=True))


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A local Ray instance with 2 CPUs, no dashboard, shared by a module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=_temp_dir(tmp_path_factory))
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A head node and a worker node (2 CPUs each, as far as Ray counts) on this machine, joined by this process."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "include_dashboard": False, "temp_dir": _temp_dir(tmp_path_factory)},
    )
    cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture
def assert_gone() -> Callable[[list[int]], None]:
    """Check that every pid (actors, scenario servers, zygotes) is gone after close()."""
    from helpers import wait_gone

    def check(pids: list[int]) -> None:
        alive = wait_gone(pids, timeout=15.0)
        assert not alive, f"processes still running after close(): {alive}"

    return check


@pytest.fixture
def assert_no_live_actors() -> Callable[[], None]:
    """Check that the cluster has no live actor left (the GCS's actor table; no dashboard needed)."""
    import time

    def check() -> None:
        deadline = time.monotonic() + 15.0
        while True:
            alive = [a for a in ray._private.state.actors().values() if a["State"] not in ("DEAD",)]
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert not alive, f"actors still alive: {[(a['ActorID'], a['State']) for a in alive]}"

    return check
