"""The sub-environment host layer: database template, scenario server process, tools.

Data flows one way: :mod:`awm_gym.catalog` -> this package -> :mod:`awm_gym.envs`.
"""

from __future__ import annotations

# Databases
from awm_gym.host.database import BuildReport, StatementFailure, build_template, restore_database, snapshot_database

# The host
from awm_gym.host.host import HostState, SubEnvHost, ToolResult

# Tools
from awm_gym.host.tools import HTTPCall, Tool, ToolCallError, ToolCatalog, render_response
from awm_gym.host.zygote import runtime_dir, shutdown_zygotes

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
]
