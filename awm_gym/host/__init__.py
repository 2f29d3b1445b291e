"""The sub-environment host layer: database template, scenario server process, tools.

Data flows one way: :mod:`awm_gym.catalog` -> this package -> :mod:`awm_gym.envs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from awm_gym._lazy import lazy_exports

if TYPE_CHECKING:
    from awm_gym.host.database import BuildReport, StatementFailure, build_template, restore_database, snapshot_database
    from awm_gym.host.host import HostState, SubEnvHost, ToolResult
    from awm_gym.host.tools import HTTPCall, Tool, ToolCallError, ToolCatalog, render_response
    from awm_gym.host.zygote import runtime_dir, shutdown_zygotes, zygote_stats

# Name -> module; loaded on first use, so importing one submodule (e.g. in a child process) stays cheap.
_EXPORTS = {
    "BuildReport": "awm_gym.host.database",
    "HTTPCall": "awm_gym.host.tools",
    "HostState": "awm_gym.host.host",
    "StatementFailure": "awm_gym.host.database",
    "SubEnvHost": "awm_gym.host.host",
    "Tool": "awm_gym.host.tools",
    "ToolCallError": "awm_gym.host.tools",
    "ToolCatalog": "awm_gym.host.tools",
    "ToolResult": "awm_gym.host.host",
    "build_template": "awm_gym.host.database",
    "render_response": "awm_gym.host.tools",
    "restore_database": "awm_gym.host.database",
    "runtime_dir": "awm_gym.host.zygote",
    "shutdown_zygotes": "awm_gym.host.zygote",
    "snapshot_database": "awm_gym.host.database",
    "zygote_stats": "awm_gym.host.zygote",
}


__all__ = [
    "BuildReport",
    "HTTPCall",
    "HostState",
    "StatementFailure",
    "SubEnvHost",
    "Tool",
    "ToolCallError",
    "ToolCatalog",
    "ToolResult",
    "build_template",
    "render_response",
    "restore_database",
    "runtime_dir",
    "shutdown_zygotes",
    "snapshot_database",
    "zygote_stats",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
