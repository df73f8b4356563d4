"""The review card shows the person's face, from our own origin, in a real browser.

Debian's Chromium (Playwright, the session's `browser` fixture) against
`hirondelle serve` with its in-process worker; the person on Bluesky lives
on the real atproto stack (PLC + PDS + AppView on 127.0.0.1), with an avatar
blob on the PDS. The review page queues the read; the worker reads the
profile from the AppView and the picture from its image server; the page,
reloaded, shows the avatar served by the portal itself, and the browser
never asked any other origin for anything. axe-core then finds nothing.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.support.browser import serve_portal, stop_portal
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def _setup(portal, archive: Path, x_id: str, handle: str, did: str) -> str:
    """A signed-in person whose archive follows `x_id`, linked to `handle`; the session key."""
    return portal.sign_in(
        f"""
        from django.contrib.auth import get_user_model
        from hirondelle.identity.services.directory import assert_link, set_consent
        from hirondelle.migration.services.importing import import_archive

        user = get_user_model().objects.create(username="faces")
        import_archive({str(archive)!r}, owner=user)
        assert_link({x_id}, "bluesky", {handle!r}, {did!r}, evidence="self", asserted_by="e2e")
        set_consent({x_id}, findable=True, auto_followable=True, auto_follow_arrivals=False)
        """
    )


def test_the_review_card_shows_the_avatar_from_our_origin(browser, atproto_peer, tmp_path):
    assert AXE.exists(), "axe-core is missing: run scripts/bootstrap"
    person = atproto_peer.create_account()
    picture = io.BytesIO()
    Image.new("RGB", (240, 240), (20, 160, 90)).save(picture, format="PNG")
    atproto_peer.set_profile(person, display_name="Zoé Avatar", avatar=picture.getvalue())
    atproto_peer.sync()
    spec = sample_spec(seed=11, n_posts=3, n_following=5, n_followers=2)
    archive = write_archive(tmp_path / "x", spec)
    portal = serve_portal(
        tmp_path / "portal",
        extra_env={"HIRONDELLE_BLUESKY_APPVIEW_URL": atproto_peer.appview or ""},
    )
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 900})
    context.add_init_script(path=str(AXE))
    try:
        key = _setup(portal, archive, spec.following[0], person.handle, person.did)
        context.add_cookies([{"name": "sessionid", "value": key, "url": portal.url}])
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        card = f'li:has(input[name=pick]) .person:has-text("{person.handle}")'
        deadline = time.monotonic() + 90
        while True:
            page.goto(portal.url + "/review/")
            if page.locator(f"{card} img.avatar").count():
                break
            # Until the worker has read it: the initial, never a broken picture.
            assert page.locator(f"{card} .avatar.initial").count() == 1
            assert time.monotonic() < deadline, portal.log.read_text()[-3000:]
            time.sleep(1.5)
        image = page.locator(f"{card} img.avatar")
        src = image.get_attribute("src")
        assert src.startswith("/avatars/")
        assert src.endswith(".webp")
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("(img) => img.naturalWidth") == 96
        assert "Zoé Avatar" in page.locator(card).inner_text()
        foreign = [u for u in asked if not u.startswith(portal.url)]
        assert foreign == [], f"the browser asked other servers: {foreign}"
        result = page.evaluate("async () => await axe.run(document)")
        violations = [
            f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
        ]
        assert violations == [], json.dumps(violations)
    finally:
        context.close()
        stop_portal(portal)
