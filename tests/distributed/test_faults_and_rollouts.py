"""RayVectorEnv on a local Ray instance: the rollout driver over it, lost and hung actors, timeouts and close()."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest
import ray.cloudpickle
from gymnasium.error import AlreadyPendingCallError, ClosedEnvironmentError

from awm_gym.distributed import ACTOR_LOST, RayVectorEnv, import_ray
from awm_gym.errors import ActorLostError, MissingExtraError
from awm_gym.vector import RolloutDriver

pytestmark = pytest.mark.slow

CLINIC = "awmgym_pet_clinic"
READ = json.dumps({"name": "list_veterinarians", "arguments": {}})
ANSWER = "I am done."
CALL_TIMEOUT_S = 10.0  # generous: the machine running the tests may be loaded


class Hang(gym.Wrapper):
    """On the action "hang", blocks far longer than the vector env's call_timeout (a stuck sub-environment)."""

    def step(self, action: str) -> Any:
        if action == "hang":
            threading.Event().wait(300)
        return super().step(action)


ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Hang is not importable in Ray workers


@pytest.fixture(scope="module")
def envs(local_ray: None) -> Iterator[RayVectorEnv]:
    """Four clinic sub-environments in two actors, shared by this module's tests (closed by the last one)."""
    envs = RayVectorEnv(
        CLINIC, num_envs=4, envs_per_actor=2, num_cpus_per_actor=0.25, max_steps=4, wrappers=[Hang],
        call_timeout=CALL_TIMEOUT_S,
    )  # fmt: skip
    yield envs
    envs.close()


def test_a_killed_actor_ends_its_episodes_with_an_error_and_is_replaced(envs: RayVectorEnv, assert_gone: Any) -> None:
    """Killing an actor mid-episode: its sub-environments' step ends the episode (reward 0, truncated, the error
    in info), a replacement actor takes over and the next step resets them; the other actor is untouched."""
    envs.reset(seed=0)
    envs.step([READ] * 4)
    before = envs.placement()
    victim = next(actor for actor in before if 0 in actor["indices"])
    victim_pids = envs.process_ids(0)  # the actor of sub-environment 0, its servers and zygote
    envs.kill_actor(0)
    observations, rewards, terminations, truncations, infos = envs.step([ANSWER] * 4)
    lost = sorted(victim["indices"])
    kept = [index for index in range(4) if index not in lost]
    assert [rewards[i] for i in lost] == [0.0, 0.0]
    assert [bool(truncations[i]) for i in lost] == [True, True] and not terminations[lost].any()
    assert [infos["error"]["type"][i] for i in lost] == [ACTOR_LOST, ACTOR_LOST]
    assert all("hosting it was lost" in infos["error"]["message"][i] for i in lost)
    assert all(observations[i].startswith("Episode ended: the Ray actor") for i in lost)
    assert "verifier" not in infos or not infos["_verifier"][lost].any()  # never a verdict, never a success
    assert terminations[kept].all() and infos["_verifier"][kept].all()  # the others answered and were verified
    after = next(actor for actor in envs.placement() if 0 in actor["indices"])
    assert after["generation"] == 1 and after["pid"] != victim["pid"]
    assert [record["indices"] for record in envs.replacements] == [victim["indices"]]
    assert_gone(victim_pids)

    observations, rewards, _, _, infos = envs.step([READ] * 4)  # NEXT_STEP: every sub-environment resets
    assert all(observation.startswith("You are an agent") for observation in observations)
    _, _, _, _, infos = envs.step([READ] * 4)
    assert infos["step"].tolist() == [1, 1, 1, 1] and "error" not in infos


def test_a_hung_sub_environment_times_out(envs: RayVectorEnv) -> None:
    """A step that does not answer within call_timeout: its actor is killed and replaced, the episodes it hosted
    end with the timeout in info, and the vector env goes on."""
    envs.reset(seed=0)
    replaced = len(envs.replacements)
    _, rewards, _, truncations, infos = envs.step(["hang", READ, READ, READ])
    hung = sorted(next(actor for actor in envs.placement() if 0 in actor["indices"])["indices"])
    assert len(envs.replacements) == replaced + 1
    assert [bool(truncations[i]) for i in hung] == [True, True] and [rewards[i] for i in hung] == [0.0, 0.0]
    assert f"did not answer within {CALL_TIMEOUT_S:.0f} s (call_timeout)" in infos["error"]["message"][hung[0]]
    envs.step([READ] * 4)
    _, _, _, truncations, infos = envs.step([READ] * 4)
    assert not truncations.any() and "error" not in infos


def test_the_lease_seam(envs: RayVectorEnv) -> None:
    """lend() hands out the sub-environments one by one; the vector env refuses lockstep calls meanwhile."""
    with envs.lend() as lease:
        assert lease.num_envs == 4
        observation, info = lease.submit(1, "reset", options={"task_idx": 2}).result()
        assert info["task_idx"] == 2 and lease.task_idx(1) == 2 and lease.scenario(1) == CLINIC
        assert envs.state.value == "rollout"
        with pytest.raises(AlreadyPendingCallError):
            envs.step([READ] * 4)
        _, reward, terminated, truncated, info = lease.submit(1, "step", ANSWER).result()
        assert terminated and info["verifier"]["label"] == "others"
    assert envs.state.value == "default"


def test_rollout_driver_keeps_going_when_an_actor_dies(envs: RayVectorEnv) -> None:
    """The non-lockstep driver over the actors: an actor killed mid-run ends its running episodes with the error
    (reward 0); every requested task still yields an episode."""
    killed = False

    def policy(histories: list[list[dict[str, Any]]]) -> list[str]:
        nonlocal killed
        if not killed and any(len(history) >= 3 for history in histories):  # these episodes are mid-way
            killed = True
            envs.kill_actor(0)
            envs.kill_actor(3)
        return [READ if len(history) < 4 else ANSWER for history in histories]

    episodes = list(RolloutDriver(envs, policy, tasks=list(range(8)), inputs="messages", progress=False, seed=0))
    assert sorted(episode.task_idx for episode in episodes) == list(range(8))
    lost = [episode for episode in episodes if episode.final_info.get("error", {}).get("type") == ACTOR_LOST]
    assert lost, "the killed actor's episodes end with the error"
    assert all(episode.reward == 0.0 and episode.truncated and not episode.complete for episode in lost)
    finished = [episode for episode in episodes if episode not in lost]
    assert finished and all(episode.label == "others" and episode.terminated for episode in finished)


def test_close_leaves_no_actor_and_no_process(envs: RayVectorEnv, assert_gone: Any, assert_no_live_actors: Any) -> None:
    """close() stops every actor (replacements included) with its scenario servers and zygotes."""
    pids = envs.process_ids()
    envs.close()
    assert envs.closed
    assert_gone(pids)
    assert_no_live_actors()
    with pytest.raises(ClosedEnvironmentError, match=re.escape("after a call to `close()`")):
        envs.step([READ] * 4)


def test_resources_the_cluster_cannot_give(local_ray: None, assert_no_live_actors: Any) -> None:
    """Actors that cannot be placed fail within create_timeout with what they asked for; none is left behind."""
    expected = "1 of 1 Ray actors were not running within 2 s (create_timeout); each asks for {'num_cpus': 16.0}"
    with pytest.raises(ActorLostError, match=re.escape(expected)):
        RayVectorEnv(CLINIC, num_envs=1, num_cpus_per_actor=16, create_timeout=2)
    assert_no_live_actors()


def test_without_ray_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Ray installed, building a RayVectorEnv says which extra to install."""
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=re.escape("pip install awm-gym[ray]")):
        import_ray()
    with pytest.raises(MissingExtraError, match=re.escape("pip install awm-gym[ray]")):
        RayVectorEnv(CLINIC, num_envs=1)


DRIVER = """
import json, sys, time
import ray
ray.init(address=sys.argv[1], log_to_driver=False)
from awm_gym.distributed import RayVectorEnv
envs = RayVectorEnv("awmgym_pet_clinic", num_envs=2, envs_per_actor=2, num_cpus_per_actor=0.25)
envs.reset(seed=0)
print(json.dumps(envs.process_ids()), flush=True)
time.sleep(600)
"""


def test_actors_die_with_their_driver(local_ray: None, tmp_path: Any, assert_gone: Any) -> None:
    """A driver process killed with SIGKILL (no close(), no exit handlers) takes its actors and servers along."""
    import subprocess

    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, address], stdout=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )  # fmt: skip
    try:
        pids = json.loads(driver.stdout.readline())  # type: ignore[union-attr]
        assert len(pids) >= 3  # the actor, two servers (and the zygote)
    finally:
        driver.kill()
        driver.wait()
    assert_gone(pids)
