"""The Mastodon API operations the adapter uses, as documented.

Transcribed by hand from `abraham/mastodon-openapi` `dist/schema.json`
(commit 89b11e724f5015e232d160749e3b2fd4006e100d, API 4.7.0, generated from
the official mastodon/documentation). `test_contract.py` re-checks this table
against a trimmed extract of that file kept in `data/` (MIT), on every run.

Wire forms (Mastodon's Rails conventions, as its documentation writes them):
arrays in a query string are ``name[]=a&name[]=b``; booleans are ``true`` or
``false``; request bodies are JSON (the schema's content type), multipart
for uploads, and forms for the OAuth endpoints (RFC 6749 §4.1.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.support.mastodon_peer import RecordedRequest

STR, INT, BOOL, ARR = "string", "integer", "boolean", "array"  # ARR: array of strings


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # template, {id} for a path parameter
    operation_id: str
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)
    body_kind: str = ""  # "json", "multipart" or "form"
    required: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()

    def matches(self, method: str, path: str) -> bool:
        pattern = "^" + re.sub(r"\{[a-z_]+\}", "[^/]+", self.path) + "$"
        return method == self.method and re.match(pattern, path) is not None


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/api/v1/accounts/verify_credentials", "getAccountsVerifyCredentials"),
    Operation("GET", "/api/v1/accounts/lookup", "getAccountLookup", query={"acct": STR}),
    Operation(
        "GET",
        "/api/v2/search",
        "getSearchV2",
        query={
            "q": STR,
            "type": STR,
            "resolve": BOOL,
            "following": BOOL,
            "account_id": STR,
            "exclude_unreviewed": BOOL,
            "max_id": STR,
            "min_id": STR,
            "limit": INT,
            "offset": INT,
        },
        required=("q",),
    ),
    Operation(
        "GET",
        "/api/v1/accounts/relationships",
        "getAccountRelationships",
        query={"id": ARR, "with_suspended": BOOL},
    ),
    Operation(
        "POST",
        "/api/v1/accounts/{id}/follow",
        "postAccountFollow",
        body={"reblogs": BOOL, "notify": BOOL, "languages": ARR},
        body_kind="json",
    ),
    Operation("POST", "/api/v1/accounts/{id}/block", "postAccountBlock", body_kind="json"),
    Operation(
        "POST",
        "/api/v1/accounts/{id}/mute",
        "postAccountMute",
        body={"notifications": BOOL, "duration": INT},
        body_kind="json",
    ),
    Operation("GET", "/api/v1/lists", "getLists"),
    Operation(
        "POST",
        "/api/v1/lists",
        "createList",
        body={"title": STR, "replies_policy": STR, "exclusive": BOOL},
        body_kind="json",
        required=("title",),
    ),
    Operation(
        "GET",
        "/api/v1/lists/{id}/accounts",
        "getListAccounts",
        query={"limit": INT, "max_id": STR, "since_id": STR, "min_id": STR},
    ),
    Operation(
        "POST",
        "/api/v1/lists/{id}/accounts",
        "postListAccounts",
        body={"account_ids": ARR},
        body_kind="json",
        required=("account_ids",),
    ),
    Operation(
        "POST",
        "/api/v1/statuses",
        "createStatus",
        body={
            "status": STR,
            "media_ids": ARR,
            "in_reply_to_id": STR,
            "sensitive": BOOL,
            "spoiler_text": STR,
            "visibility": STR,
            "language": STR,
            "scheduled_at": STR,
            "quoted_status_id": STR,
            "quote_approval_policy": STR,
        },
        body_kind="json",
        headers=("Idempotency-Key",),
    ),
    Operation(
        "POST",
        "/api/v2/media",
        "createMediaV2",
        body={"file": STR, "description": STR, "focus": STR, "thumbnail": STR},
        body_kind="multipart",
        required=("file",),
    ),
    Operation("GET", "/api/v1/media/{id}", "getMedia"),
    Operation(
        "GET",
        "/api/v1/accounts/{id}/statuses",
        "getAccountStatuses",
        query={
            "max_id": STR,
            "since_id": STR,
            "min_id": STR,
            "limit": INT,
            "only_media": BOOL,
            "exclude_replies": BOOL,
            "exclude_reblogs": BOOL,
            "pinned": BOOL,
            "tagged": STR,
        },
    ),
    Operation("GET", "/api/v1/statuses/{id}", "getStatus"),
    Operation("GET", "/api/v1/statuses/{id}/source", "getStatusSource"),
    Operation("GET", "/api/v2/instance", "getInstanceV2"),
    Operation("GET", "/api/v1/instance", "getInstance"),
    Operation(
        "POST",
        "/api/v1/apps",
        "createApp",
        body={"client_name": STR, "redirect_uris": STR, "scopes": STR, "website": STR},
        body_kind="form",
        required=("client_name", "redirect_uris"),
    ),
    Operation(
        "POST",
        "/oauth/token",
        "postOauthToken",
        body={
            "client_id": STR,
            "client_secret": STR,
            "code": STR,
            "grant_type": STR,
            "redirect_uri": STR,
            "code_verifier": STR,
            "scope": STR,
        },
        body_kind="form",
        required=("client_id", "client_secret", "code", "grant_type", "redirect_uri"),
    ),
    Operation(
        "POST",
        "/oauth/revoke",
        "postOauthRevoke",
        body={"client_id": STR, "client_secret": STR, "token": STR},
        body_kind="form",
        required=("client_id", "client_secret", "token"),
    ),
    Operation(
        "GET",
        "/oauth/authorize",
        "getOauthAuthorize",
        query={
            "response_type": STR,
            "client_id": STR,
            "redirect_uri": STR,
            "scope": STR,
            "state": STR,
            "code_challenge": STR,
            "code_challenge_method": STR,
            "force_login": BOOL,
            "lang": STR,
        },
        required=("response_type", "client_id", "redirect_uri"),
    ),
)


def operation_for(method: str, path: str) -> Operation:
    for op in OPERATIONS:
        if op.matches(method, path):
            return op
    raise AssertionError(f"{method} {path} is not a documented operation the adapter may use")


def _scalar_ok(kind: str, value: str) -> bool:
    if kind == BOOL:
        return value in ("true", "false")
    if kind == INT:
        return re.fullmatch(r"-?\d+", value) is not None
    return True


def _json_ok(kind: str, value: Any) -> bool:
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == ARR:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


def problems(req: RecordedRequest) -> list[str]:
    """What is wrong with this request against the table (empty when conforming)."""
    op = operation_for(req.method, req.path)
    found: list[str] = []
    sent: set[str] = set()
    for raw_name, value in req.query:
        name = raw_name.removesuffix("[]")
        kind = op.query.get(name)
        sent.add(name)
        if kind is None:
            found.append(f"undocumented query parameter {raw_name!r}")
        elif (kind == ARR) != raw_name.endswith("[]"):
            found.append(f"{raw_name!r}: arrays go as name[]=…, scalars without []")
        elif kind != ARR and not _scalar_ok(kind, value):
            found.append(f"{raw_name}={value!r} is not a {kind}")
    if op.body_kind == "json" and req.body is not None:
        if not req.content_type.startswith("application/json") or not isinstance(req.body, dict):
            found.append(f"body should be a JSON object, got {req.content_type!r}")
        else:
            for name, value in req.body.items():
                sent.add(name)
                kind = op.body.get(name)
                if kind is None:
                    found.append(f"undocumented body field {name!r}")
                elif not _json_ok(kind, value):
                    found.append(f"{name}={value!r} is not a JSON {kind}")
    elif op.body_kind == "form":
        if not req.content_type.startswith("application/x-www-form-urlencoded"):
            found.append(f"body should be a form, got {req.content_type!r}")
        else:
            for name, _ in req.body or []:
                sent.add(name)
                if name not in op.body:
                    found.append(f"undocumented form field {name!r}")
    elif op.body_kind == "multipart":
        if not req.content_type.startswith("multipart/form-data"):
            found.append(f"body should be multipart, got {req.content_type!r}")
        else:
            names = set(re.findall(rb'form-data; name="([^"]+)"', req.body or b""))
            for name in (n.decode() for n in names):
                sent.add(name)
                if name not in op.body:
                    found.append(f"undocumented multipart field {name!r}")
    elif req.body not in (None, b"", ""):
        found.append("a body was sent where none is documented")
    for name in op.required:
        if name not in sent:
            found.append(f"required parameter {name!r} missing")
    for header in op.headers:
        if header not in req.headers:
            found.append(f"header {header} missing")
    return found
