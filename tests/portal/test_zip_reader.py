"""The in-browser zip reader (static/portal/zip.js) in Debian's Chromium.

Checked against Python's zipfile on the same files: names, sizes, inflated
contents, resuming mid-file, and ZIP64 records (forced on small files by
lowering zipfile's ZIP64 threshold while writing, as multi-GB archives have).
"""

from __future__ import annotations

import base64
import hashlib
import random
import zipfile
from pathlib import Path

import pytest

import hirondelle.portal

ZIP_JS = Path(hirondelle.portal.__file__).parent / "static" / "portal" / "zip.js"

pytestmark = pytest.mark.slow


def _write(path: Path, *, zip64: bool) -> dict[str, bytes]:
    rng = random.Random(5)
    files = {
        "twitter-2024/data/account.js": b'window.YTD.account.part0 = [{"account": {}}]',
        "twitter-2024/data/following.js": b"".join(
            b'{"following": {"accountId": "%d"}},\n' % rng.randrange(10**17) for _ in range(5000)
        ),
        "twitter-2024/data/tweets_media/1-a.jpg": rng.randbytes(70_000),  # stored, incompressible
        "twitter-2024/data/empty.js": b"",
        "twitter-2024/data/caf\u00e9.js": "données ✓".encode(),
    }
    limit = zipfile.ZIP64_LIMIT
    if zip64:
        zipfile.ZIP64_LIMIT = 1000  # every bigger member and offset needs ZIP64 records
    try:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(zipfile.ZipInfo("twitter-2024/"), b"")
            for name, data in files.items():
                method = zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED
                z.writestr(name, data, compress_type=method)
    finally:
        zipfile.ZIP64_LIMIT = limit
    return files


READ = """
async ([name, size, skip]) => {
  const file = document.querySelector('input').files[0];
  const entries = await HirondelleZip.list(file);
  const entry = entries.find((e) => e.name === name);
  const parts = [];
  for await (const chunk of HirondelleZip.chunks(file, entry, size, skip)) parts.push(chunk);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return {
    names: entries.map((e) => [e.name, e.size]),
    chunkSizes: parts.map((p) => p.length),
    sha256: Array.from(digest).map((b) => b.toString(16).padStart(2, '0')).join(''),
    head: btoa(String.fromCharCode(...all.slice(0, 16))),
  };
}
"""


@pytest.mark.parametrize("zip64", [False, True], ids=["zip", "zip64"])
def test_zip_reader_matches_python(browser, tmp_path, zip64) -> None:
    path = tmp_path / "archive.zip"
    files = _write(path, zip64=zip64)
    if zip64:
        assert b"PK\x06\x06" in path.read_bytes()  # a ZIP64 end record is really there
    page = browser.new_page()
    # A secure origin (crypto.subtle) with nothing else on it.
    page.route(
        "http://127.0.0.1:9/",
        lambda route: route.fulfill(body="<input type=file>", content_type="text/html"),
    )
    page.goto("http://127.0.0.1:9/")
    page.add_script_tag(content=ZIP_JS.read_text())
    page.set_input_files("input", str(path))
    for name, data in files.items():
        for size, skip in [(4096, 0), (1000, 1234), (10**7, 0)]:
            if skip > len(data):
                continue
            got = page.evaluate(READ, [name, size, skip])
            assert sorted(got["names"]) == sorted([n, len(d)] for n, d in files.items())
            expected = data[skip:]
            assert got["sha256"] == hashlib.sha256(expected).hexdigest(), (name, size, skip)
            assert base64.b64decode(got["head"]) == expected[:16]
            assert all(n == size for n in got["chunkSizes"][:-1])
            assert sum(got["chunkSizes"]) == len(expected)
    page.close()
