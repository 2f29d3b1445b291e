"""The verifiers task set id ``awm_gym_verifiers``: verifiers' loader imports task sets by module name.

Everything lives in :mod:`awm_gym.integrations.verifiers`; this module only re-exports the task set, its env
and its default harness, so ``vf-eval awm_gym_verifiers`` and ``vf.load_environment`` find them.
"""

from __future__ import annotations

from awm_gym.integrations.verifiers import AWMChatHarness, AWMGymEnv, AWMTaskset

__all__ = ["AWMChatHarness", "AWMGymEnv", "AWMTaskset"]
