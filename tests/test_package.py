"""The public surface: every module's __all__ is sorted, complete and importable."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import awm_gym

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(awm_gym.__path__, "awm_gym.")
    if not info.name.endswith(("server_process", "worker_process"))
)


def _isort_style(name: str) -> tuple[int, str]:
    """CONSTANTS, then Classes, then functions (ruff's RUF022 order)."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_importable(name: str) -> None:
    """__all__ exists, is sorted, and each name resolves."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=_isort_style)
    for symbol in exported:
        assert getattr(module, symbol) is not None


@pytest.mark.parametrize("name", [m for m in MODULES if "." in m.removeprefix("awm_gym.") or m == "awm_gym"])
def test_all_lists_every_public_definition(name: str) -> None:
    """Public classes and functions defined in a module are exported by it."""
    module = importlib.import_module(name)
    defined = {
        symbol
        for symbol, value in vars(module).items()
        if not symbol.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == name
    }
    assert defined <= set(module.__all__)
