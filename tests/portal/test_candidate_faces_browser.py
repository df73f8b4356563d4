"""A discovery proposal shows the new account's face, from our own origin, in a real browser.

Debian's Chromium (Playwright, the session's `browser` fixture) against
`hirondelle serve` with its in-process worker. The proposed account lives on
the real atproto stack (PLC + PDS + AppView on 127.0.0.1) with an avatar blob
on the PDS; its profile is read from the AppView as discovery reads it. The
discover page asks for the picture; the worker fetches it from the AppView's
image server into the person's migration; the page, reloaded, shows it
served by the portal itself, and the browser never asked any other origin
for anything. axe-core then finds nothing.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image

from hirondelle.networks.search import BlueskyPublic
from tests.support.browser import serve_portal, stop_portal
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def _setup(portal, archive: Path, x_id: str, profile: dict) -> str:
    """A signed-in person whose discovery proposed `profile` for `x_id`; the session key."""
    return portal.sign_in(
        f"""
        import json
        from django.contrib.auth import get_user_model
        from django.utils import timezone
        from hirondelle.migration.models import DiscoveryCandidate, DiscoveryRun
        from hirondelle.migration.services.importing import import_archive

        user = get_user_model().objects.create(username="proposals")
        migration = import_archive({str(archive)!r}, owner=user).migration
        DiscoveryRun.objects.create(
            migration=migration, consented_at=timezone.now(), state="done"
        )
        profile = json.loads({json.dumps(profile)!r})
        DiscoveryCandidate.objects.create(
            migration=migration,
            x_account_id={x_id},
            x_username="zoe_x",
            network="bluesky",
            account=profile["account"],
            handle=profile["handle"],
            evidence="profile_claim",
            profile=profile,
        )
        """
    )


def test_a_proposal_shows_its_avatar_from_our_origin(browser, atproto_peer, tmp_path):
    assert AXE.exists(), "axe-core is missing: run scripts/bootstrap"
    person = atproto_peer.create_account()
    picture = io.BytesIO()
    Image.new("RGB", (240, 240), (200, 60, 30)).save(picture, format="PNG")
    atproto_peer.set_profile(
        person,
        display_name="Zoé\u202e Proposée",
        description="Formerly x.com/zoe_x",
        avatar=picture.getvalue(),
    )
    atproto_peer.sync()
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        [profile] = bluesky.get_profiles([person.did])
    assert profile.avatar  # the AppView's image server URL, on 127.0.0.1
    spec = sample_spec(seed=13, n_posts=3, n_following=5, n_followers=2)
    archive = write_archive(tmp_path / "x", spec)
    portal = serve_portal(
        tmp_path / "portal",
        extra_env={"HIRONDELLE_BLUESKY_APPVIEW_URL": atproto_peer.appview or ""},
    )
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 900})
    context.add_init_script(path=str(AXE))
    try:
        key = _setup(portal, archive, spec.following[0], profile.to_dict())
        context.add_cookies([{"name": "sessionid", "value": key, "url": portal.url}])
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        card = f'li.candidate[data-handle="{person.handle}"]'
        deadline = time.monotonic() + 90
        while True:
            page.goto(portal.url + "/discover/")
            assert page.locator(card).count() == 1
            if page.locator(f"{card} img.avatar").count():
                break
            # Until the worker has fetched it: the initial, never a broken picture.
            assert page.locator(f"{card} .avatar.initial").count() == 1
            assert time.monotonic() < deadline, portal.log.read_text()[-3000:]
            time.sleep(1.5)
        image = page.locator(f"{card} img.avatar")
        src = image.get_attribute("src")
        assert src.startswith("/discover/avatars/")
        assert src.endswith(".webp")
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("(img) => img.naturalWidth") == 96
        text = page.locator(card).inner_text()
        assert "Zoé Proposée" in text  # the direction override is gone
        assert "\u202e" not in text
        foreign = [u for u in asked if not u.startswith(portal.url)]
        assert foreign == [], f"the browser asked other servers: {foreign}"
        result = page.evaluate("async () => await axe.run(document)")
        violations = [
            f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
        ]
        assert violations == [], json.dumps(violations)
        # Someone else, signed in or not, gets nothing at that address.
        other = browser.new_context()
        try:
            assert other.request.get(portal.url + src).status == 404
        finally:
            other.close()
    finally:
        context.close()
        stop_portal(portal)
