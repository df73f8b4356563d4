"""The whole flow in a real browser (Debian's Chromium via Playwright) against
`hirondelle serve` in a subprocess: sign in with Mastodon, upload a generated
archive, consent, review, run and watch progress, stats, delete.

Sign-in goes through `mastodon-mock` (a stateful imitation of Mastodon's API,
not Mastodon) served on 127.0.0.1: its authorize page is an account picker.
Screenshots of every step are saved under the test's tmp path (paths printed).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.slow


def _seed_directory(portal, following: list[str]) -> None:
    """Two people I follow proven by their website, one only by their own word."""
    portal.python(
        f"""
        from hirondelle.identity.services.directory import assert_link, set_consent
        rows = {
            json.dumps(
                [
                    [following[0], "dave@remote.example", "domain"],
                    [following[1], "erin@other.example", "domain"],
                    [following[2], "ghost@nowhere.example", "self"],
                ]
            )
        }
        for x_id, handle, evidence in rows:
            assert_link(x_id, "mastodon", handle, evidence=evidence, asserted_by="e2e")
            set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
        """
    )


def test_the_whole_flow_in_a_browser(browser, served_portal, mastodon_peer, shots, tmp_path):
    spec = sample_spec(seed=11, n_posts=8, n_following=60, n_followers=25)
    archive = write_archive(tmp_path / "x", spec, zipped=True)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"{m.location.get('url', '')}: {m.text}"),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    base = served_portal.url
    missing: list[str] = []
    page.on("response", lambda r: r.status >= 400 and missing.append(f"{r.status} {r.url}"))

    # 1. Welcome, in French (the browser's language), then switched to English.
    page.goto(base + "/")
    assert "Quitter X sans perdre personne" in page.inner_text("h1")
    shots(page, "welcome-fr")
    page.click("button[value=en]")
    page.wait_for_selector("text=Leave X without losing anyone")
    page.goto(base + "/privacy/")
    assert "never" in page.inner_text("#never + p")
    shots(page, "privacy")

    # 2. Sign in with Mastodon: the app is registered on the fly, PKCE, account picker.
    page.goto(base + "/signin/")
    page.fill("#server", mastodon_peer.base_url)
    shots(page, "signin")
    page.click("#mastodon-form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(mastodon_peer.base_url) + "/oauth/authorize.*"))
    shots(page, "mastodon-authorize")
    page.click("button[value=alice]")
    page.wait_for_url(base + "/")
    assert "Signed in as alice" in page.inner_text(".messages")
    shots(page, "signed-in")

    # 3. Upload: the zip is read in the browser; only the needed files are sent.
    page.goto(base + "/upload/")
    page.set_input_files("#archive-file", str(archive))
    page.wait_for_selector("#plan:not([hidden])")
    sent = page.text_content("#send-list")
    assert "data/following.js" in sent
    assert "data/account.js" in sent
    assert "direct-message" not in sent
    assert "tweets.js" not in sent
    page.click("#keep-list >> xpath=ancestor::details/summary")
    assert "direct-messages.js" in page.inner_text("#keep-list")
    shots(page, "upload-preview")
    page.click("#start")
    page.wait_for_selector("#next:not([hidden])", timeout=90_000)
    assert page.eval_on_selector("#progress", "p => p.value") == 100
    shots(page, "upload-done")

    # The directory knows where three of the people I follow went.
    _seed_directory(served_portal, spec.following)

    # 4. Consent: three separate boxes, none ticked.
    page.click("#next")
    boxes = page.query_selector_all("#consent-form input[type=checkbox]")
    assert len(boxes) == 3
    assert not any(b.is_checked() for b in boxes)
    page.check("input[name=findable]")
    page.check("input[name=auto_follow_arrivals]")
    shots(page, "consent")
    page.click("#consent-form button[type=submit]")
    page.wait_for_url(base + "/review/")

    # 5. Review: grouped by evidence; the self-declared one needs review.
    counts = page.inner_text("#review-counts tr[data-network=mastodon]")
    assert counts.split() == ["Mastodon", "3", "2", "1", "2"]
    assert "dave@remote.example" in page.inner_text("fieldset[data-evidence=domain]")
    assert "For you to check" in page.inner_text("fieldset[data-evidence=self]")
    shots(page, "review")
    page.fill("#q", "erin")
    page.click("form.search button")
    assert page.query_selector_all("#review-form .handle")[0].inner_text() == "erin@other.example"
    assert len(page.query_selector_all("#review-form .handle")) == 1
    shots(page, "review-search")

    # 6. Run: started in the background; progress is polled live.
    page.goto(base + "/run/")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector(".messages")
    page.wait_for_function(
        "() => { const p = document.querySelector('.account-progress progress');"
        " return p && p.max === 2 && p.value === 2; }",
        timeout=90_000,
    )
    assert "2 of 2 finished" in page.inner_text(".account-progress .counts")
    shots(page, "run-finished")
    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")
    follows = mastodon_peer.get(f"/api/v1/accounts/{me['id']}/following")
    handles = sorted(a["acct"] for a in follows)
    assert "dave@remote.example" in handles
    assert "erin@other.example" in handles
    assert "ghost@nowhere.example" not in handles

    # 7. Stats and "since then".
    page.goto(base + "/stats/")
    assert page.query_selector("#personal svg polyline") is not None
    shots(page, "stats")
    page.goto(base + "/later/")
    assert not page.is_checked("#notice-form input[name=enabled]")  # off unless turned on
    page.check("#notice-form input[name=enabled]")
    page.check("#notice-form input[value=weekly]")
    page.click("#notice-form button[type=submit]")
    page.wait_for_selector("text=You will be told about arrivals.")
    assert page.is_checked("#notice-form input[name=enabled]")
    assert page.is_checked("#notice-form input[value=weekly]")
    shots(page, "later")

    # 7b. My posts: send the archive again, with the posts this time, then
    # preview and republish them on the Mastodon account.
    page.goto(base + "/upload/")
    page.check("#republish")
    page.set_input_files("#archive-file", str(archive))
    page.wait_for_selector("#plan:not([hidden])")
    assert "tweets.js" in page.text_content("#send-list")
    page.click("#start")
    page.wait_for_selector("#next:not([hidden])", timeout=90_000)
    page.goto(base + "/republish/")
    page.click("#republish-form button[value=preview]")
    page.wait_for_selector("#preview")
    preview = page.inner_text("#preview")
    assert "nothing has been published" in preview
    parts = int(re.search(r"becomes? (\d+) posts? on the network", preview).group(1))
    assert parts > 0
    shots(page, "republish-preview")
    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")
    assert not mastodon_peer.get(f"/api/v1/accounts/{me['id']}/statuses")  # preview only
    page.click("#republish-form button[value=start]")
    page.wait_for_selector(".messages")
    shots(page, "republish-started")
    deadline = time.monotonic() + 90
    while True:
        statuses = mastodon_peer.get(f"/api/v1/accounts/{me['id']}/statuses", limit=40)
        if len(statuses) >= parts or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(statuses) == parts
    assert all("Originally posted on X" in s["content"] for s in statuses)
    assert {s["visibility"] for s in statuses} == {"unlisted"}

    # 8. Delete everything.
    page.goto(base + "/delete/")
    page.check("input[name=confirm]")
    shots(page, "delete-confirm")
    page.click("#delete-form button[type=submit]")
    page.wait_for_selector("#deleted")
    shots(page, "deleted")
    left = served_portal.python(
        """
        from django.contrib.auth import get_user_model
        from hirondelle.migration.models import Migration, ConnectedAccount
        print(get_user_model().objects.count(), Migration.objects.count(),
              ConnectedAccount.objects.count())
        """
    )
    assert left.split() == ["0", "0", "0"]
    assert not list((served_portal.data_dir / "media" / "uploads").glob("*/*"))

    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    # Every page of ours loads whole and logs no error (the mock server's own
    # pages may miss a favicon: not ours).
    assert not [m for m in missing if m.split(" ", 1)[1].startswith(base)], missing
    assert not [p for p in problems if not p.startswith(mastodon_peer.base_url)], problems
    context.close()
