"""RewardShaping on a real scenario: the verifier reward stays the ground truth, every term is itemised."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import gymnasium as gym
import pytest
from wrapping import advise as expert
from wrapping import ask as tagged_ask
from wrapping import call, run

import awm_gym  # noqa: F401 - registers the scenarios
from awm_gym.catalog.solutions import load_reference_solutions
from awm_gym.errors import ConfigurationError
from awm_gym.wrappers import SHAPING_PRESETS, ExpertAdvice, RewardShaping, ShapingTerms

SCENARIO = "AWM/awmgym_pet_clinic-v0"
SOLUTION = load_reference_solutions()["awmgym_pet_clinic", 3].actions()
ask = functools.partial(tagged_ask, tagged=False)  # the plain JSON form
ZERO = dict.fromkeys(("step", "format_error", "solo", "recovery", "blind"), 0.0)


def terms(**values: float) -> dict[str, float]:
    return {**ZERO, **values}


@pytest.fixture(scope="module")
def base() -> Iterator[gym.Env]:
    env = gym.make(SCENARIO, max_steps=12)
    yield env
    env.close()


class TestDefaults:
    def test_without_configuration_the_reward_is_the_verifier_reward(self, base: gym.Env) -> None:
        """Every term defaults to 0: the wrapper only adds the two info keys."""
        steps = run(RewardShaping(base), SOLUTION)
        assert [reward for _, reward, *_ in steps] == [0.0, 0.0, 0.0, 1.0]
        for _, reward, _, _, info in steps:
            assert info["shaping"] == ZERO and info["verifier_reward"] == reward

    def test_the_preset_holds_the_reference_values(self, base: gym.Env) -> None:
        assert SHAPING_PRESETS["expert_in_the_loop"] == ShapingTerms(solo=1.0, recovery=0.3, blind=-0.2)
        env = RewardShaping(base, preset="expert_in_the_loop", blind=-0.5, step=-0.01)
        assert env.terms == ShapingTerms(step=-0.01, format_error=0.0, solo=1.0, recovery=0.3, blind=-0.5)


class TestTerms:
    def test_scripted_episode_with_expert_matches_the_preset_term_by_term(self, base: gym.Env) -> None:
        """Blind ask, a format error, a recovery ask, then the solution: each term where it belongs."""
        env = RewardShaping(ExpertAdvice(base, expert), preset="expert_in_the_loop", step=-0.01, format_error=-0.1)
        actions = [ask("Where do I start?"), call("get_pet"), ask("Why did that fail?"), *SOLUTION]
        steps = run(env, actions)
        expected = [
            terms(step=-0.01, blind=-0.2),
            terms(step=-0.01, format_error=-0.1),
            terms(step=-0.01),
            terms(step=-0.01),
            terms(step=-0.01),
            terms(step=-0.01),
            terms(step=-0.01, recovery=0.3),
        ]
        assert [info["shaping"] for *_, info in steps] == expected
        assert [info["verifier_reward"] for *_, info in steps] == [0.0] * 6 + [1.0]
        for _, reward, _, _, info in steps:
            assert reward == pytest.approx(info["verifier_reward"] + sum(info["shaping"].values()))
        assert sum(reward for _, reward, *_ in steps) == pytest.approx(1.0 - 0.07 - 0.2 - 0.1 + 0.3)

    def test_verifier_reward_equals_the_unwrapped_envs_reward(self, base: gym.Env) -> None:
        env = RewardShaping(ExpertAdvice(base, expert), preset="expert_in_the_loop", step=-0.05)
        shaped = run(env, [ask(), *SOLUTION])
        bare = run(base, SOLUTION)
        assert shaped[-1][4]["verifier_reward"] == bare[-1][1] == 1.0
        assert shaped[-1][4]["verifier"] == bare[-1][4]["verifier"]

    def test_solo_pays_a_completion_without_the_expert(self, base: gym.Env) -> None:
        """Without ExpertAdvice in the stack every completion is solo."""
        steps = run(RewardShaping(base, preset="expert_in_the_loop"), SOLUTION)
        assert steps[-1][4]["shaping"] == terms(solo=1.0) and steps[-1][1] == 2.0

    def test_solo_pays_when_the_expert_was_offered_but_not_asked(self, base: gym.Env) -> None:
        steps = run(RewardShaping(ExpertAdvice(base, expert), preset="expert_in_the_loop"), SOLUTION)
        assert steps[-1][4]["shaping"]["solo"] == 1.0

    def test_no_completion_no_bonus(self, base: gym.Env) -> None:
        env = RewardShaping(ExpertAdvice(base, expert), preset="expert_in_the_loop")
        solo = run(env, ["I could not do it."])
        recovery = run(env, [SOLUTION[0], call("get_pet"), ask(), "I could not do it."])
        assert solo[-1][4]["verifier"]["label"] == "others" and solo[-1][1] == 0.0
        assert recovery[-1][4]["shaping"] == ZERO and recovery[-1][1] == 0.0

    def test_blind_is_paid_once_and_only_before_any_other_action(self, base: gym.Env) -> None:
        env = RewardShaping(ExpertAdvice(base, expert), blind=-0.2)
        steps = run(env, [ask(), ask()])
        assert [info["shaping"]["blind"] for *_, info in steps] == [-0.2, 0.0]
        steps = run(env, [SOLUTION[0], ask()])
        assert [info["shaping"]["blind"] for *_, info in steps] == [0.0, 0.0]

    def test_recovery_needs_the_ask_right_after_the_error(self, base: gym.Env) -> None:
        env = RewardShaping(ExpertAdvice(base, expert), recovery=0.3)
        late = run(env, [call("get_pet"), SOLUTION[0], ask(), *SOLUTION[1:]])
        assert late[-1][4]["verifier"]["label"] == "complete" and late[-1][4]["shaping"]["recovery"] == 0.0
        right = run(env, [call("get_pet"), ask(), *SOLUTION])
        assert right[-1][4]["shaping"]["recovery"] == 0.3

    @pytest.mark.parametrize(
        ("action", "error"),
        [
            ("<tool_call>not json</tool_call>", "malformed_call"),
            ('{"name": "no_such_tool", "arguments": {}}', "unknown_tool"),
            ('{"name": "get_pet", "arguments": {"pet_id": "x"}}', "invalid_arguments"),
        ],
    )
    def test_format_errors_are_penalised(self, base: gym.Env, action: str, error: str) -> None:
        [(_, reward, _, _, info)] = run(RewardShaping(base, format_error=-0.1), [action])
        assert info["error"]["type"] == error
        assert info["shaping"] == terms(format_error=-0.1) and reward == -0.1

    def test_an_unavailable_expert_call_is_an_unknown_tool_not_an_expert_call(self, base: gym.Env) -> None:
        env = RewardShaping(
            ExpertAdvice(base, expert, availability=0.0), preset="expert_in_the_loop", format_error=-0.1
        )
        steps = run(env, [ask(), *SOLUTION])
        assert steps[0][4]["shaping"] == terms(format_error=-0.1)
        assert steps[-1][4]["shaping"]["solo"] == 1.0


class TestConfiguration:
    def test_unknown_presets_suggest_a_close_name(self, base: gym.Env) -> None:
        with pytest.raises(
            ConfigurationError,
            match=re.escape(
                "unknown shaping preset 'expert_in_loop'; the presets are ['expert_in_the_loop']. "
                "Did you mean 'expert_in_the_loop'?"
            ),
        ):
            RewardShaping(base, preset="expert_in_loop")

    def test_terms_must_be_numbers(self, base: gym.Env) -> None:
        with pytest.raises(ConfigurationError, match=re.escape("shaping term solo must be a number, got '1'")):
            RewardShaping(base, solo="1")  # type: ignore[arg-type]

    def test_shaping_twice_is_rejected(self, base: gym.Env) -> None:
        with pytest.raises(ConfigurationError, match="RewardShaping is already in this stack"):
            RewardShaping(ExpertAdvice(RewardShaping(base), expert))
