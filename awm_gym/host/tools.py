"""The agent's tools: derived from the scenario app's OpenAPI exactly as fastapi-mcp 0.4.0 derives them.

AWM serves every scenario through fastapi-mcp, so that is the contract policies were trained and evaluated
against. One tool per route with an ``operationId``:

- **name** = the operation id;
- **description** = summary (or ``METHOD path``), a blank line and the description, then a ``### Responses:``
  section with the success response and an example generated from its schema;
- **input schema** = one flat object merging path parameters, query parameters and the top-level fields of
  the JSON body (a field with an alias is named by its alias, since FastAPI's OpenAPI uses aliases).

A call maps the flat arguments back: path parameters are substituted into the path, query parameters go
to the query string, header parameters to headers, and the rest becomes the JSON body for POST/PUT/PATCH
(dropped for GET/DELETE). Arguments are first validated against the input schema, and failures read
exactly as the agent would see them through MCP::

    Unknown tool: <name>
    Input validation error: <jsonschema message>
    Error calling <op>. Status code: <n>. Response: <body>

One deliberate difference from fastapi-mcp: a path value is percent-encoded (``quote(str(value), safe="")``,
and a value of ``.`` or ``..`` as ``%2E``), as an HTTP client should. fastapi-mcp substitutes ``str(value)``
raw, so a string argument like ``'1?owner_id=2'`` or ``'../../admin'`` becomes part of the request target
and can add query parameters the tool does not have or leave the route. Here such a value stays inside its
own path segment (the server decodes it back to the same string, which then fails the route's own
validation or matches nothing). Values of unreserved characters (ids, plain names: nearly every call)
give the same target as fastapi-mcp.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = [
    "HTTPCall",
    "Tool",
    "ToolCallError",
    "ToolCatalog",
    "render_response",
    "request_target",
]

_HTTP_METHODS = ("get", "post", "put", "delete", "patch")
_BODY_METHODS = ("post", "put", "patch")


class ToolCallError(Exception):
    """A call that never reaches the server; ``kind`` is ``unknown_tool`` or ``invalid_arguments``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
_PLAIN_QUERY_TEXT = re.compile(r"[A-Za-z0-9\-._~]*")


@functools.cache
def _base_url() -> Any:
    import httpx  # deferred: a slow import, needed only for unusual characters

    return httpx.URL("http://apiserver/")


def _primitive_text(value: Any) -> str:
    """A query value as text, as httpx writes it (``primitive_value_to_str``)."""
    return "true" if value is True else "false" if value is False else "" if value is None else str(value)


def _path_segment(value: Any) -> str:
    """A path value percent-encoded so that it stays one path segment (see the module docstring).

    Example:
        >>> [_path_segment(v) for v in (7, "1?owner_id=2", "../../admin", "..", "café")]
        ['7', '1%3Fowner_id%3D2', '..%2F..%2Fadmin', '%2E%2E', 'caf%C3%A9']
    """
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text in (".", "..") else text


def request_target(path: str, query: Mapping[str, Any]) -> str:
    """The request target (path and query string) exactly as fastapi-mcp's httpx client builds it.

    Plain paths and scalar query values made of unreserved characters (nearly every call) are joined
    directly, which is what httpx produces for them; anything else goes through httpx itself.

    Example:
        >>> request_target("/pets/3", {"limit": 5, "active": True})
        '/pets/3?limit=5&active=true'
        >>> request_target("/search", {"q": "Mr. O'Brien & co"})
        '/search?q=Mr.+O%27Brien+%26+co'
    """
    texts = {key: _primitive_text(value) for key, value in query.items()}
    plain = all(
        (value is None or isinstance(value, str | int | float))
        and _PLAIN_QUERY_TEXT.fullmatch(key)
        and _PLAIN_QUERY_TEXT.fullmatch(texts[key])
        for key, value in query.items()
    )
    if plain and _PLAIN_PATH.fullmatch(path):
        target = "/" + path.lstrip("/")
        return f"{target}?{'&'.join(f'{k}={t}' for k, t in texts.items())}" if texts else target
    import httpx

    url = httpx.URL(path)
    url = _base_url().copy_with(raw_path=b"/" + url.raw_path.lstrip(b"/")).copy_merge_params(query)
    return url.raw_path.decode("ascii")


@dataclass(frozen=True)
class HTTPCall:
    """The HTTP request a tool call becomes: method, raw target (path and query) and optional JSON body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


@dataclass(frozen=True)
class Tool:
    """One tool: what the policy sees (name, description, input schema) and the route it calls."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    method: str
    path: str
    parameters: tuple[Mapping[str, Any], ...] = ()

    def openai_schema(self) -> dict[str, Any]:
        """The tool as an OpenAI function tool (a fresh copy each call)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(dict(self.input_schema)),
            },
        }

    def http_call(self, arguments: Mapping[str, Any]) -> HTTPCall:
        """Map validated flat arguments to the HTTP request (fastapi-mcp's ``_execute_api_tool`` rules)."""
        args = dict(arguments)
        path = self.path
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        for where, collect in (("path", None), ("query", query), ("header", headers)):
            for param in self.parameters:
                name = param.get("name")
                if param.get("in") != where or name not in args:
                    continue
                if collect is None:
                    path = path.replace("{" + name + "}", _path_segment(args.pop(name)))
                else:
                    collect[name] = args.pop(name)
        body = None
        if self.method in _BODY_METHODS and args:
            body = json.dumps(args, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        return HTTPCall(
            method=self.method.upper(),
            target=request_target(path, query),
            headers=tuple((k, str(v)) for k, v in headers.items()),
            body=body,
        )


@dataclass
class ToolCatalog:
    """The tools of one scenario app, with argument validation and mapping to HTTP requests.

    Example:
        >>> catalog = ToolCatalog.from_openapi({"paths": {"/items/{item_id}": {"get": {
        ...     "operationId": "get_item", "summary": "Get an item",
        ...     "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]}}}})
        >>> catalog["get_item"].input_schema["required"]
        ['item_id']
        >>> catalog.prepare("get_item", {"item_id": 7}).target
        '/items/7'
    """

    tools: dict[str, Tool]
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)
    _schemas_json: str | None = field(default=None, repr=False)

    @classmethod
    def from_openapi(cls, openapi: Mapping[str, Any]) -> ToolCatalog:
        """Derive every tool from an OpenAPI document (as produced by ``fastapi.openapi.utils.get_openapi``)."""
        resolved = _resolve_refs(openapi, openapi, frozenset())
        tools: dict[str, Tool] = {}
        for path, path_item in resolved.get("paths", {}).items():
            for method, operation in path_item.items():
                if method not in _HTTP_METHODS or not operation.get("operationId"):
                    continue
                tool = _tool_from_operation(path, method, operation)
                tools[tool.name] = tool
        return cls(tools)

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools.values())

    def __len__(self) -> int:
        return len(self.tools)

    def openai_schemas(self) -> list[dict[str, Any]]:
        """Every tool as an OpenAI function tool (fresh copies)."""
        # Every reset hands these out; decoding a cached JSON text is several times faster than deep copies.
        if self._schemas_json is None:
            self._schemas_json = json.dumps([tool.openai_schema() for tool in self])
        return json.loads(self._schemas_json)

    def validate(self, name: str, arguments: Any) -> None:
        """Check a call the way the MCP server does before dispatch.

        Raises:
            ToolCallError: ``Unknown tool: <name>`` or ``Input validation error: <message>``.
        """
        if name not in self.tools:
            raise ToolCallError("unknown_tool", f"Unknown tool: {name}")
        validator = self._validators.get(name)
        if validator is None:
            from jsonschema import validators  # deferred: a slow import, needed only once tools are called

            schema = self.tools[name].input_schema
            validator = validators.validator_for(schema)(schema)
            self._validators[name] = validator
        from jsonschema.exceptions import best_match

        error = best_match(validator.iter_errors(arguments))
        if error is not None:
            raise ToolCallError("invalid_arguments", f"Input validation error: {error.message}")

    def prepare(self, name: str, arguments: Any) -> HTTPCall:
        """Validate a call and map it to its HTTP request.

        Raises:
            ToolCallError: The tool is unknown or the arguments are invalid.
        """
        arguments = {} if arguments is None else arguments
        self.validate(name, arguments)
        try:
            return self.tools[name].http_call(arguments)
        except (TypeError, ValueError) as exc:  # e.g. a value httpx cannot put in a query string
            raise ToolCallError("invalid_arguments", f"Error calling {name}: {exc}") from exc


def render_response(tool_name: str, status: int, body: bytes) -> tuple[str, bool]:
    """The text the agent sees for an HTTP response, and whether it is an error (fastapi-mcp's format)."""
    text = body.decode("utf-8", errors="replace")
    if 400 <= status < 600:
        return f"Error calling {tool_name}. Status code: {status}. Response: {text}", True
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False), False
    except ValueError:
        return text, False


# --------------------------------------------------------------------------------------------------------
# OpenAPI -> tool, following fastapi_mcp/openapi/convert.py and utils.py (0.4.0) rule by rule.


def _resolve_refs(part: Any, document: Mapping[str, Any], seen: frozenset[str]) -> Any:
    """Inline ``#/components/schemas/...`` references (a recursive model is left as a ``$ref`` the second time)."""
    if isinstance(part, list):
        return [_resolve_refs(item, document, seen) for item in part]
    if not isinstance(part, Mapping):
        return part
    part = dict(part)
    ref = part.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/") and ref not in seen:
        target = document.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1])
        if target is not None:
            del part["$ref"]
            part.update(target)
            seen = seen | {ref}
    return {key: _resolve_refs(value, document, seen) for key, value in part.items()}


def _own_type(schema: Mapping[str, Any]) -> str:
    return schema.get("type", "string")


def _first_type(schema: Mapping[str, Any]) -> str:
    if "anyOf" in schema:
        types = [s.get("type") for s in schema["anyOf"] if isinstance(s, Mapping) and s.get("type")]
        types = [t for t in dict.fromkeys(types) if t != "null"]
        return types[0] if types else "string"
    return schema.get("type", "string")


_DISPLAY_DROPPED = (
    "allOf",
    "anyOf",
    "oneOf",
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
)


def _display_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in schema.items() if k not in _DISPLAY_DROPPED}
    if isinstance(cleaned.get("properties"), Mapping):
        cleaned["properties"] = {
            name: _display_schema(prop) if isinstance(prop, Mapping) else prop
            for name, prop in cleaned["properties"].items()
        }
    if cleaned.get("type") == "array" and isinstance(cleaned.get("items"), Mapping):
        cleaned["items"] = _display_schema(cleaned["items"])
    return cleaned


_STRING_EXAMPLES = {
    "date-time": "2023-01-01T00:00:00Z",
    "date": "2023-01-01",
    "email": "user@example.com",
    "uri": "https://example.com",
}


def _example(schema: Any) -> Any:
    if not schema or not isinstance(schema, Mapping):
        return None
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        examples = {name: _example(prop) for name, prop in props.items()}
        return {name: value for name, value in examples.items() if value is not None}
    if kind == "array":
        item = _example(schema["items"]) if "items" in schema else None
        return [item] if item is not None else []
    if kind == "string":
        return _STRING_EXAMPLES.get(schema.get("format"), schema.get("title", "string"))
    return {"integer": 1, "number": 1.0, "boolean": True}.get(kind)


def _responses_text(responses: Mapping[str, Any]) -> str:
    success_code = next((str(code) for code in range(200, 300) if str(code) in responses), None)
    success = responses[success_code] if success_code else None
    included = {success_code: success} if success_code else responses
    text = "\n\n### Responses:\n"
    for code, response in included.items():
        text += f"\n**{code}**: {response.get('description', '')}"
        if response == success:
            text += " (Success Response)"
        for content_type, content in response.get("content", {}).items():
            if "schema" not in content:
                continue
            text += f"\nContent-Type: {content_type}"
            example = None
            if "examples" in content:
                example = next((e["value"] for e in content["examples"].values() if "value" in e), None)
            elif "example" in content:
                example = content["example"]
            if not example:
                example = _example(_display_schema(content["schema"]))
            if example:
                text += "\n\n**Example Response:**\n```json\n" + json.dumps(example, indent=2) + "\n```"
    return text


def _tool_from_operation(path: str, method: str, operation: Mapping[str, Any]) -> Tool:
    name = operation["operationId"]
    summary = operation.get("summary", "")
    description = summary if summary else f"{method.upper()} {path}"
    if operation.get("description"):
        description += f"\n\n{operation['description']}"
    if operation.get("responses"):
        description += _responses_text(operation["responses"])

    parameters = tuple(operation.get("parameters", []))
    properties: dict[str, Any] = {}
    required: list[str] = []

    def add(param_name: str, schema: Mapping[str, Any], desc: str, is_required: bool, type_of: Any) -> None:
        prop = dict(schema)
        prop["title"] = param_name
        if desc:
            prop["description"] = desc
        if "type" not in prop:
            prop["type"] = type_of(schema)
        properties[param_name] = prop
        if is_required:
            required.append(param_name)

    # Path parameters first (required unless they say otherwise), then query parameters (optional by default).
    for where, required_by_default, type_of in (("path", True, _own_type), ("query", False, _first_type)):
        for param in parameters:
            if param.get("in") == where:
                is_required = param.get("required", required_by_default)
                add(param["name"], param.get("schema", {}), param.get("description", ""), is_required, type_of)
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        body_schema = next(iter(content.values())).get("schema", {})
        for prop_name, prop_schema in body_schema.get("properties", {}).items():
            add(prop_name, prop_schema, "", prop_name in body_schema.get("required", []), _first_type)

    input_schema: dict[str, Any] = {"type": "object", "properties": properties, "title": f"{name}Arguments"}
    if required:
        input_schema["required"] = required
    return Tool(name, description, input_schema, method, path, parameters)
