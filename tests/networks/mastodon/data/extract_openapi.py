"""Trim `abraham/mastodon-openapi` `dist/schema.json` to what the contract test reads.

Usage (from the repository root, with the upstream file at hand):

    python -m tests.networks.mastodon.data.extract_openapi path/to/schema.json

Keeps, for each operation of `contract.OPERATIONS`, its operationId, its
parameters and its request body, plus the component schemas those bodies
refer to (responses are left out). The result is written next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.networks.mastodon.contract import OPERATIONS

HERE = Path(__file__).parent
EXTRACT = HERE / "mastodon-openapi-extract.json"
SOURCE = {
    "repository": "https://github.com/abraham/mastodon-openapi",
    "file": "dist/schema.json",
    "commit": "89b11e724f5015e232d160749e3b2fd4006e100d",
    "licence": "MIT (see LICENSE-mastodon-openapi next to this file)",
}


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def extract(schema: dict) -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        documented = schema["paths"][op.path][op.method.lower()]
        kept = {
            key: documented[key]
            for key in ("operationId", "parameters", "requestBody")
            if key in documented
        }
        paths.setdefault(op.path, {})[op.method.lower()] = kept
    components = schema["components"]["schemas"]
    wanted = _refs(paths)
    done: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name in done:
            continue
        done[name] = components[name]
        wanted |= _refs(components[name]) - set(done)
    return {
        "x-source": SOURCE,
        "info": schema.get("info", {}),
        "paths": paths,
        "components": {"schemas": dict(sorted(done.items()))},
    }


def main(argv: list[str]) -> None:
    schema = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    EXTRACT.write_text(
        json.dumps(extract(schema), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {EXTRACT} ({EXTRACT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv)
