"""`hirondelle serve` (uvicorn, ASGI) streams files the way ASGI expects:
no "synchronous iterators" warning in its log, and the files arrive whole.

A real `hirondelle serve` process on 127.0.0.1, fetched with requests.
"""

from __future__ import annotations

from pathlib import Path

import requests

import hirondelle.portal
from tests.support.browser import serve_portal, stop_portal

STATIC = Path(hirondelle.portal.__file__).parent / "static" / "portal"


def test_static_files_stream_without_the_sync_iterator_warning(tmp_path) -> None:
    portal = serve_portal(tmp_path / "data", no_worker=True)
    try:
        for name in ("run.js", "zip.js", "favicon.svg"):
            response = requests.get(f"{portal.url}/static/portal/{name}", timeout=10)
            assert response.status_code == 200
            assert response.content == (STATIC / name).read_bytes()
        # A range request (resumed downloads) streams too.
        partial = requests.get(
            f"{portal.url}/static/portal/zip.js", headers={"Range": "bytes=0-99"}, timeout=10
        )
        assert partial.status_code == 206
        assert partial.content == (STATIC / "zip.js").read_bytes()[:100]
        assert requests.get(f"{portal.url}/", timeout=10).status_code == 200
    finally:
        stop_portal(portal)
    log = portal.log.read_text()
    assert "synchronous iterators" not in log, log
    assert "Hirondelle is running" in log  # the log was captured
