"""RayVectorEnv on a two-node Ray cluster started on this machine (ray.cluster_utils.Cluster)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from awm_gym.distributed import ACTOR_LOST, RayVectorEnv
from awm_gym.vector import RolloutDriver

pytestmark = pytest.mark.slow

CLINIC, BUDGET = "awmgym_pet_clinic", "awmgym_home_budget"
READ = json.dumps({"name": "list_veterinarians", "arguments": {}})
ANSWER = "I am done."


@pytest.fixture(scope="module")
def spread(two_nodes: Any) -> Iterator[RayVectorEnv]:
    """Four clinic sub-environments in two one-CPU actors, spread over the two nodes."""
    envs = RayVectorEnv(CLINIC, num_envs=4, envs_per_actor=2, num_cpus_per_actor=1, placement="spread", max_steps=10)
    yield envs
    envs.close()


def test_actors_spread_over_both_nodes_and_step(spread: RayVectorEnv, two_nodes: Any) -> None:
    """One actor per node; lockstep steps and a rollout run across both."""
    nodes = {actor["node_id"] for actor in spread.placement()}
    assert len(nodes) == 2
    spread.reset(seed=0)
    _, _, terminations, _, infos = spread.step([READ, READ, ANSWER, ANSWER])
    assert terminations.tolist() == [False, False, True, True] and infos["step"].tolist() == [1, 1, 1, 1]

    def policy(observations: list[str]) -> list[str]:
        return [ANSWER] * len(observations)

    episodes = list(RolloutDriver(spread, policy, tasks=list(range(6)), progress=False))
    assert sorted(episode.task_idx for episode in episodes) == list(range(6))
    assert all(episode.label == "others" and episode.num_steps == 1 for episode in episodes)


def test_a_killed_actor_is_replaced_on_its_node(spread: RayVectorEnv, two_nodes: Any) -> None:
    """The actor on the worker node dies mid-episode: its episodes end with the error and its replacement starts
    on the same node."""
    head = two_nodes.head_node.node_id
    victim = next(actor for actor in spread.placement() if actor["node_id"] != head)
    spread.reset(seed=0)
    spread.step([READ] * 4)
    spread.kill_actor(victim["indices"][0])
    _, rewards, _, truncations, infos = spread.step([READ] * 4)
    for index in victim["indices"]:
        assert truncations[index] and rewards[index] == 0.0 and infos["error"]["type"][index] == ACTOR_LOST
    replacement = next(actor for actor in spread.placement() if actor["indices"] == victim["indices"])
    assert replacement["node_id"] == victim["node_id"] and replacement["generation"] == 1
    observations, _, _, truncations, infos = spread.step([READ] * 4)  # NEXT_STEP: the lost ones reset
    kept = [index for index in range(4) if index not in victim["indices"]]
    assert all(observations[index].startswith("You are an agent") for index in victim["indices"])
    assert not truncations.any() and [infos["step"][index] for index in kept] == [3, 3]


def test_scenario_placement_keeps_each_scenario_on_one_node(two_nodes: Any, assert_gone: Any) -> None:
    """With placement="scenario", every actor of a scenario lands on the node of its first actor."""
    envs = RayVectorEnv([CLINIC, BUDGET], num_envs=4, envs_per_actor=1, num_cpus_per_actor=0.5, max_steps=4)
    try:
        nodes: dict[str, set[str]] = defaultdict(set)
        for actor in envs.placement():
            nodes[envs.scenarios[actor["indices"][0]]].add(actor["node_id"])
        assert {scenario: len(found) for scenario, found in nodes.items()} == {CLINIC: 1, BUDGET: 1}
        assert nodes[CLINIC] != nodes[BUDGET]  # the scenarios' first actors were spread
        envs.reset(seed=0)
        assert envs.step([ANSWER] * 4)[2].all()
        pids = envs.process_ids()
    finally:
        envs.close()
    assert_gone(pids)


def test_a_node_that_dies_mid_episode(spread: RayVectorEnv, two_nodes: Any) -> None:
    """The worker node goes down mid-episode: its episodes end with the error, its actor restarts on the head
    node, and the vector env goes on."""
    head = two_nodes.head_node.node_id
    victim = next(actor for actor in spread.placement() if actor["node_id"] != head)
    spread.reset(seed=0)
    spread.step([READ] * 4)
    worker = next(node for node in two_nodes.worker_nodes)
    two_nodes.remove_node(worker)
    _, rewards, _, truncations, infos = spread.step([READ] * 4)
    for index in victim["indices"]:
        assert truncations[index] and rewards[index] == 0.0 and infos["error"]["type"][index] == ACTOR_LOST
    assert {actor["node_id"] for actor in spread.placement()} == {head}
    spread.step([READ] * 4)
    _, _, _, truncations, infos = spread.step([READ] * 4)
    assert not truncations.any() and "error" not in infos and infos["step"].tolist().count(1) == 2
