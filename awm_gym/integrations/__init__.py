"""Adapters for LLM-RL trainers, one module per outside package, each imported lazily.

- :mod:`awm_gym.integrations.trl`: TRL's ``GRPOTrainer`` (``pip install awm-gym[trl]``);
- :mod:`awm_gym.integrations.verifiers`: a verifiers v1 task set and environment (``pip install awm-gym[verifiers]``);
- :mod:`awm_gym.integrations.skyrl`: a SkyRL-gym ``BaseTextEnv`` (``pip install awm-gym[skyrl]``).

Importing this package imports none of them; a missing package raises
:class:`~awm_gym.errors.MissingExtraError` naming the extra to install.
"""

from __future__ import annotations

__all__: list[str] = []
