"""Tool derivation and argument mapping, checked against fastapi-mcp 0.4.0 itself (the reference)."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import jsonschema
import pytest
from fastapi.openapi.utils import get_openapi
from fastapi_mcp.openapi.convert import convert_openapi_to_mcp_tools

from awm_gym.catalog import list_scenarios, load_scenario
from awm_gym.host import ToolCallError, ToolCatalog, render_response
from awm_gym.host.tools import request_target


def _openapi(scenario, tmp_path: Path) -> dict:
    os.environ["DATABASE_PATH"] = f"sqlite:///{tmp_path / 'x.db'}"
    module = types.ModuleType(f"app_{scenario.name}")
    sys.modules[module.__name__] = module  # pydantic resolves postponed annotations through it
    exec(compile(scenario.full_code, "app.py", "exec"), module.__dict__)
    app = module.app
    return get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )


@pytest.mark.parametrize("name", [n for n in list_scenarios() if n.startswith("awmgym_")] + ["tiny_shop_1"])
def test_tools_match_fastapi_mcp(name: str, release_dir: Path, tmp_path: Path) -> None:
    """Names, descriptions and input schemas equal fastapi-mcp's for every route of every bundled app."""
    openapi = _openapi(load_scenario(name, release_dir), tmp_path)
    reference, operations = convert_openapi_to_mcp_tools(openapi)
    ours = ToolCatalog.from_openapi(openapi)
    assert [t.name for t in ours] == [t.name for t in reference]
    for tool, ref in zip(ours, reference, strict=True):
        assert tool.description == ref.description
        assert dict(tool.input_schema) == ref.input_schema
        assert (tool.method, tool.path) == (operations[ref.name]["method"], operations[ref.name]["path"])


@pytest.fixture(scope="module")
def shop_tools(release_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ToolCatalog:
    return ToolCatalog.from_openapi(_openapi(load_scenario("tiny_shop_1", release_dir), tmp_path_factory.mktemp("o")))


class TestMapping:
    def test_path_params_are_substituted(self, shop_tools: ToolCatalog) -> None:
        """Path parameters go into the path, nothing else is sent."""
        call = shop_tools.prepare("cancel_order", {"order_id": 7})
        assert (call.method, call.target, call.body) == ("PUT", "/orders/7/cancel", None)

    def test_query_params_use_aliases(self, shop_tools: ToolCatalog) -> None:
        """An aliased query parameter is named by its alias; values are encoded as httpx does."""
        call = shop_tools.prepare("list_products", {"class": "home & garden", "limit": 3})
        assert call.target == "/products?limit=3&class=home+%26+garden"

    def test_body_fields_are_flattened_and_aliased(self, shop_tools: ToolCatalog) -> None:
        """Top-level body fields (the alias 'class' included) become the JSON body of a POST."""
        call = shop_tools.prepare("place_order", {"product_id": 3, "quantity": 2, "class": "gift"})
        assert call.target == "/orders"
        assert json.loads(call.body) == {"product_id": 3, "quantity": 2, "class": "gift"}

    def test_leftover_arguments_are_dropped_for_get(self, shop_tools: ToolCatalog) -> None:
        """Unknown arguments of a GET are not sent anywhere, as in fastapi-mcp."""
        call = shop_tools.prepare("list_my_orders", {"status": "placed", "extra": 1})
        assert (call.target, call.body) == ("/orders?status=placed", None)

    def test_unknown_tool_message(self, shop_tools: ToolCatalog) -> None:
        """An unknown name fails with fastapi-mcp's text."""
        with pytest.raises(ToolCallError, match="^Unknown tool: verify$") as caught:
            shop_tools.prepare("verify", {})
        assert caught.value.kind == "unknown_tool"

    @pytest.mark.parametrize(
        "arguments",
        [
            {},
            {"product_id": "three"},
            {"product_id": 1, "quantity": "2"},
            ["not", "an", "object"],
            {"product_id": None},
        ],
    )
    def test_validation_message_matches_mcp(self, shop_tools: ToolCatalog, arguments: object) -> None:
        """Invalid arguments give exactly the message the MCP server's jsonschema.validate would."""
        with pytest.raises(jsonschema.ValidationError) as expected:
            jsonschema.validate(instance=arguments, schema=dict(shop_tools["place_order"].input_schema))
        with pytest.raises(ToolCallError) as caught:
            shop_tools.prepare("place_order", arguments)
        assert caught.value.message == f"Input validation error: {expected.value.message}"
        assert caught.value.kind == "invalid_arguments"


def test_responses_render_like_fastapi_mcp() -> None:
    """JSON is pretty-printed without ASCII escaping; errors carry the status and the raw body."""
    assert render_response("t", 200, '{"name":"Café"}'.encode()) == ('{\n  "name": "Café"\n}', False)
    assert render_response("t", 200, b"plain") == ("plain", False)
    assert render_response("t", 404, b'{"detail":"Not Found"}') == (
        'Error calling t. Status code: 404. Response: {"detail":"Not Found"}',
        True,
    )


def test_openai_schemas_are_fresh_copies(shop_tools: ToolCatalog) -> None:
    """Each call returns new dicts, so a caller may change them freely."""
    first, second = shop_tools.openai_schemas(), shop_tools.openai_schemas()
    first[0]["function"]["parameters"]["properties"].clear()
    assert second[0]["function"]["parameters"]["properties"]
    assert first[0]["type"] == "function" and first[0]["function"]["name"] == "list_products"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/pets/3", {}),
        ("/pets/3", {"limit": 5, "active": True, "off": False, "none": None, "ratio": 0.5, "tiny": 1e-07}),
        ("/items", {"name": "plain-text_ok.~"}),
        ("/items", {"name": "with space"}),
        ("/items", {"name": "Café"}),
        ("/items", {"tags": ["a", "b"]}),
        ("/items/a b", {}),
        ("/items/Müller", {"q": "x"}),
        ("/items/50%", {}),
        ("items/7", {"q": "a&b=c"}),
        ("/items//7", {"": ""}),
    ],
)
def test_request_target_matches_httpx(path: str, query: dict) -> None:
    """The fast path builds exactly the target fastapi-mcp's httpx client would send."""
    import httpx

    base = httpx.URL("http://apiserver/")
    expected = base.copy_with(raw_path=b"/" + httpx.URL(path).raw_path.lstrip(b"/")).copy_merge_params(query)
    assert request_target(path, query) == expected.raw_path.decode("ascii")


class TestPathValues:
    """Path values are percent-encoded: a string argument cannot rewrite the route or add query parameters."""

    @pytest.fixture(scope="class")
    def files(self) -> ToolCatalog:
        parameter = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
        operation = {"operationId": "get_file", "parameters": [parameter]}
        return ToolCatalog.from_openapi({"paths": {"/files/{name}": {"get": operation}}})

    @pytest.mark.parametrize(
        ("value", "target"),
        [
            ("report.txt", "/files/report.txt"),  # unreserved characters: what fastapi-mcp sends too
            ("1?owner_id=2", "/files/1%3Fowner_id%3D2"),
            ("../../admin", "/files/..%2F..%2Fadmin"),
            ("..", "/files/%2E%2E"),
            ("a#frag", "/files/a%23frag"),
            ("50%", "/files/50%25"),
            ("Müller & co", "/files/M%C3%BCller%20%26%20co"),
        ],
    )
    def test_a_path_value_stays_in_its_segment(self, files: ToolCatalog, value: str, target: str) -> None:
        """'?', '#', '/', '%' and dot segments in a value are encoded; the target has no query of its own."""
        call = files.prepare("get_file", {"name": value})
        assert call.target == target
        assert "?" not in call.target and call.target.count("/") == 2

    def test_the_server_decodes_the_value_back(self, files: ToolCatalog) -> None:
        """What the server's router sees (the decoded path) holds the value as it was, in one path parameter."""
        from urllib.parse import unquote

        call = files.prepare("get_file", {"name": "1?owner_id=2"})
        assert unquote(call.target).removeprefix("/files/") == "1?owner_id=2"
