"""On a laptop, `hirondelle` in a terminal and the page in a browser are one
person, both ways: a real `hirondelle serve` (SQLite, its worker inside), the
command line as a separate process on the same data directory, Chromium
through Playwright, and sign-in through mastodon-mock (a stateful imitation
of Mastodon's API on 127.0.0.1, not Mastodon).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.portal.test_browser_ux import _upload
from tests.support.browser import serve_portal, stop_portal
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.slow


def hirondelle(portal, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hirondelle", *args],
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_terminal_and_the_page_are_the_same_person(browser, mastodon_peer, tmp_path):
    terminal = sample_spec(seed=21, n_posts=3, n_following=10, n_followers=4)
    page_spec = sample_spec(seed=22, n_posts=3, n_following=8, n_followers=3)
    assert terminal.account.username != page_spec.account.username
    by_terminal = write_archive(tmp_path / "terminal", terminal, zipped=True)
    by_page = write_archive(tmp_path / "page", page_spec, zipped=True)
    portal = serve_portal(tmp_path / "portal")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        # 1. Imported in the terminal, before the page was ever opened...
        imported = hirondelle(portal, "import", str(by_terminal))
        assert imported.returncode == 0, imported.stderr
        # ... and on the page once signed in.
        page.goto(portal.url + "/signin/")
        page.fill("#server", mastodon_peer.base_url)
        page.click("#mastodon-form button[type=submit]")
        page.wait_for_url(re.compile(re.escape(mastodon_peer.base_url) + "/oauth/authorize.*"))
        page.click("button[value=alice]")
        page.wait_for_url(portal.url + "/")
        assert f"Your archive of @{terminal.account.username} is read." in page.inner_text("main")

        # 2. Uploaded and connected on the page, used in the terminal.
        _upload(page, by_page, posts=False)
        accounts = hirondelle(portal, "accounts", "--json")
        assert accounts.returncode == 0, accounts.stderr
        (row,) = json.loads(accounts.stdout)
        assert row["network"] == "mastodon"
        assert "alice" in row["handle"]
        matched = hirondelle(
            portal, "match", "--json", "--account", "@" + page_spec.account.username
        )
        assert matched.returncode == 0, matched.stderr
        assert "following" in json.loads(matched.stdout)
        planned = hirondelle(portal, "plan", "--json")
        assert planned.returncode == 0, planned.stderr
        # planned for the account connected on the page, for both archives
        handles = {a["handle"] for a in json.loads(planned.stdout)["accounts"]}
        assert handles == {row["handle"]}
    finally:
        context.close()
        stop_portal(portal)
