"""Every error awm-gym raises, in one place.

Error tree::

    AWMGymError                      base class; catch this to catch everything below
    ├── ScenarioNotFoundError        a scenario name is not in any scenario source (also a KeyError)
    ├── DataFormatError              an AgentWorldModel-1K file or record is not in the expected format
    ├── SubEnvError                  the scenario's server process (the sub-environment)
    │   ├── SubEnvStartError         ... could not be started (import error, crash while building the app)
    │   ├── SubEnvClosedError        ... was used after ``close()``
    │   ├── SubEnvWorkerError        ... raised inside a vector env (carries its index, scenario and task)
    │   └── ActorLostError           ... lived in a Ray actor that died or hung, and could not be recovered
    ├── DownloadError                the AgentWorldModel-1K download failed (e.g. the hub is unreachable)
    ├── VerifierError                the verifier worker itself failed (not the verifier code: that is a label)
    │   └── IsolationUnavailableError    no kernel sandbox for verifier code here, and no opt-in to run without one
    ├── ConfigurationError           an option is missing or inconsistent (e.g. sql mode without a judge)
    ├── SessionLimitError            ``awm-gym serve`` already runs its maximum number of client sessions
    ├── MissingExtraError            an optional dependency is not installed (also an ImportError; names the extra)
    └── LLMError                     an OpenAI-compatible endpoint failed after all retries

Errors say what was expected, what was found, and how to fix it. Failures of lower layers are chained
with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "AWMGymError",
    "ActorLostError",
    "ConfigurationError",
    "DataFormatError",
    "DownloadError",
    "IsolationUnavailableError",
    "LLMError",
    "MissingExtraError",
    "ScenarioNotFoundError",
    "SessionLimitError",
    "SubEnvClosedError",
    "SubEnvError",
    "SubEnvStartError",
    "SubEnvWorkerError",
    "VerifierError",
]


class AWMGymError(Exception):
    """Base class of every awm-gym error."""


class ScenarioNotFoundError(AWMGymError, KeyError):
    """A scenario name is not present in any scenario source."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataFormatError(AWMGymError, ValueError):
    """An AgentWorldModel-1K file or record is not in the expected format."""


class DownloadError(AWMGymError, OSError):
    """The AgentWorldModel-1K download failed."""


class SubEnvError(AWMGymError, RuntimeError):
    """The scenario's server process failed."""


class SubEnvStartError(SubEnvError):
    """The scenario's server process could not be started."""


class SubEnvClosedError(SubEnvError):
    """The sub-environment was used after ``close()``."""


class SubEnvWorkerError(SubEnvError):
    """A sub-environment raised while the vector env ran it; the original exception is the ``__cause__``.

    Attributes:
        index: The sub-environment's index in the vector env.
        scenario: Its scenario name (``None`` if it is not an AWM env).
        task_idx: Its current task (``None`` before its first reset).
        operation: ``"create"``, ``"reset"`` or ``"step"``.
    """

    def __init__(self, message: str, *, index: int, scenario: str | None, task_idx: int | None, operation: str) -> None:
        super().__init__(message)
        self.index = index
        self.scenario = scenario
        self.task_idx = task_idx
        self.operation = operation


class ActorLostError(SubEnvError):
    """The Ray actor hosting a sub-environment died, hung past its timeout or could not be (re)started."""


class VerifierError(AWMGymError, RuntimeError):
    """The verifier worker process failed (a failing verifier *function* is reported as a label instead)."""


class IsolationUnavailableError(VerifierError):
    """No kernel-enforced sandbox for verifier code is available and running without one was not opted into."""


class ConfigurationError(AWMGymError, ValueError):
    """An option is missing or inconsistent."""


class MissingExtraError(AWMGymError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install awm-gym[extra]`` command."""


class SessionLimitError(AWMGymError, RuntimeError):
    """``awm-gym serve`` already runs its maximum number of client sessions."""


class LLMError(AWMGymError, RuntimeError):
    """An OpenAI-compatible endpoint failed after all retries."""
