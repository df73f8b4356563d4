"""The contract table itself: it catches the forms real servers reject, and it
matches the published API description.

No server here. The cross-check reads the published description from the
repository: `data/mastodon-openapi-extract.json`, a trimmed extract of
`abraham/mastodon-openapi` `dist/schema.json` (MIT, see `data/`; rebuilt by
`data/extract_openapi.py`). `HIRONDELLE_TEST_MASTODON_OPENAPI` may name a
newer full `schema.json` to check the table against instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hirondelle.networks.mastodon._http import query_params
from tests.networks.mastodon.contract import ARR, OPERATIONS, problems
from tests.support.mastodon_peer import RecordedRequest


def _get(path: str, query: list[tuple[str, str]]) -> RecordedRequest:
    return RecordedRequest("GET", path, query, "", None, {})


def _post_json(path: str, body: dict, headers: dict | None = None) -> RecordedRequest:
    return RecordedRequest("POST", path, [], "application/json", body, headers or {})


def test_documented_forms_pass() -> None:
    assert problems(_get("/api/v1/accounts/relationships", [("id[]", "1"), ("id[]", "2")])) == []
    assert problems(_get("/api/v2/search", [("q", "a@b.c"), ("resolve", "true")])) == []
    assert problems(_post_json("/api/v1/accounts/9/mute", {"notifications": False})) == []


@pytest.mark.parametrize(
    "request_",
    [
        _get("/api/v1/accounts/relationships", [("id", "1")]),  # array without []
        _get("/api/v2/search", [("q", "x"), ("resolve", "1")]),  # 0/1 boolean
        _get("/api/v2/search", [("resolve", "true")]),  # q is required
        _post_json("/api/v1/accounts/9/follow", {"reblogs": "1"}),  # boolean as a string
        _post_json("/api/v1/accounts/9/follow", {"show_reblogs": True}),  # undocumented name
        _post_json("/api/v1/lists/3/accounts", {"account_ids": [1, 2]}),  # ids are strings
        _post_json("/api/v1/statuses", {"status": "hi"}),  # no Idempotency-Key
    ],
)
def test_forms_servers_reject_are_caught(request_: RecordedRequest) -> None:
    assert problems(request_), f"{request_} should have been flagged"


def test_operations_outside_the_table_are_caught() -> None:
    with pytest.raises(AssertionError, match="not a documented operation"):
        problems(_get("/api/v1/search", [("q", "x")]))


def test_query_strings_use_documented_forms() -> None:
    assert query_params({"id": ["1", "2"], "resolve": True, "following": False, "limit": 5}) == [
        ("id[]", "1"),
        ("id[]", "2"),
        ("resolve", "true"),
        ("following", "false"),
        ("limit", "5"),
    ]


EXTRACT = Path(__file__).parent / "data" / "mastodon-openapi-extract.json"
_SCHEMA = os.environ.get("HIRONDELLE_TEST_MASTODON_OPENAPI") or str(EXTRACT)


def test_table_matches_the_published_api_description() -> None:
    schema = json.loads(Path(_SCHEMA).read_text(encoding="utf-8"))
    _check(schema)


def test_the_check_catches_a_table_that_strays_from_the_description() -> None:
    """It can fail: an undocumented body field, or a wrong type, is caught."""
    schema = json.loads(EXTRACT.read_text(encoding="utf-8"))
    follow = schema["paths"]["/api/v1/accounts/{id}/follow"]["post"]
    content = next(iter(follow["requestBody"]["content"].values()))
    properties = content["schema"].get("properties", {})
    assert "reblogs" in properties
    del properties["reblogs"]
    with pytest.raises(AssertionError):
        _check(schema)
    schema = json.loads(EXTRACT.read_text(encoding="utf-8"))
    search = schema["paths"]["/api/v2/search"]["get"]
    next(p for p in search["parameters"] if p["name"] == "resolve")["schema"]["type"] = "string"
    with pytest.raises(AssertionError):
        _check(schema)


def test_the_extract_says_where_it_comes_from() -> None:
    source = json.loads(EXTRACT.read_text(encoding="utf-8"))["x-source"]
    assert source["repository"] == "https://github.com/abraham/mastodon-openapi"
    assert len(source["commit"]) == 40
    licence = (EXTRACT.parent / "LICENSE-mastodon-openapi").read_text()
    assert licence.startswith("MIT License")


def _check(schema: dict) -> None:
    components = schema["components"]["schemas"]

    def props(node: dict) -> dict:
        if "$ref" in node:
            return props(components[node["$ref"].rsplit("/", 1)[1]])
        out: dict = {}
        for key in ("allOf", "oneOf", "anyOf"):
            for part in node.get(key, []):
                out.update(props(part))
        out.update(node.get("properties", {}))
        return out

    for op in OPERATIONS:
        documented = schema["paths"][op.path][op.method.lower()]
        assert documented["operationId"] == op.operation_id
        params = {p["name"]: p for p in documented.get("parameters", [])}
        for name, kind in op.query.items():
            assert params[name]["in"] == "query", (op.path, name)
            assert params[name]["schema"]["type"] == kind, (op.path, name)
        for header in op.headers:
            assert params[header]["in"] == "header"
        if op.body:
            content = documented["requestBody"]["content"]
            body = props(next(iter(content.values()))["schema"])
            for name, kind in op.body.items():
                assert name in body, (op.path, name)
                doc_type = body[name].get("type")
                # forms send one redirect URI as a string where JSON would take an array
                assert doc_type == kind or (op.body_kind == "form" and doc_type == ARR), (
                    op.path,
                    name,
                    doc_type,
                )
