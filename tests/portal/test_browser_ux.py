"""The guided path as a person uses it, in a real browser (Debian's Chromium
via Playwright) against `hirondelle serve`: on a 390-pixel phone and a
1280-pixel desktop, in French and in English.

On every page: no sideways scrolling, no axe-core violation (axe-core 4.11.0,
pinned in tests/peers/axe, injected into the page), no English word in a
French page's messages. Along the way: the import summary in sentences, the
warning for an archive whose zip lacks a file its manifest lists, honest
results after a run where one follow fails, keyboard-only use, and the
platform's own check boxes.

Sign-in goes through `mastodon-mock` (a stateful imitation of Mastodon's API,
not Mastodon) on 127.0.0.1. The French phone run and the English desktop run
save a screenshot of each step into docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.support.browser import serve_portal, stop_portal
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
#: English words that have no business in a French page's sentences.
ENGLISH = re.compile(
    r"\b(the|you|your|and|with|from|this|that|are|were|not|people|account|accounts|"
    r"follow|followers|posts|done|waiting|step|sign|found|nothing|again)\b",
    re.I,
)
#: Where a page speaks to the person (not handles, file names or post texts).
SENTENCES = (
    ".message, [role=status], [role=alert], h1, h2, h3, label, legend, button, .hint, "
    "dl.facts, .steps, .lead, #import-summary li, .failures li, .eta, .counts, .person-why"
)


class Walk:
    """Checks and screenshots for every page of one run."""

    def __init__(self, page, lang: str, width: int, save: bool) -> None:
        self.page, self.lang, self.width, self.save = page, lang, width, save
        self.n = 0
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.seen.append(name)
        assert page.evaluate("document.documentElement.lang") == self.lang, name
        # No sideways scrolling.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow}px wider than the {self.width}px window"
        # Tap targets: every button and text field is at least 44 px tall.
        small = page.evaluate(
            """() => [...document.querySelectorAll('main button, main .button, main select, '
                + 'main input[type=text], main input[type=search], main input:not([type]), '
                + 'header summary')]
              .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 43.5)
              .map((e) => e.outerHTML.slice(0, 80))"""
        )
        assert not small, f"{name}: tap targets under 44 px: {small}"
        # Accessibility.
        result = page.evaluate("async () => await axe.run(document)")
        violations = [
            f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
        ]
        assert not violations, f"{name} ({self.lang}, {self.width}px): {violations}"
        # French pages speak French.
        if self.lang == "fr":
            texts = page.eval_on_selector_all(SENTENCES, "els => els.map((e) => e.innerText)")
            english = sorted({m.group(0) for t in texts for m in ENGLISH.finditer(t)})
            assert not english, f"{name}: English words on a French page: {english} in {texts}"
        if self.save:
            self.n += 1
            SHOTS.mkdir(parents=True, exist_ok=True)
            path = SHOTS / f"{self.lang}-{self.width}-{self.n:02d}-{name}.png"
            page.screenshot(path=str(path), full_page=True, animations="disabled")
            _shrink(path)


def _shrink(path: Path) -> None:
    """A 64-colour palette: the committed screenshots stay small."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _seed_directory(portal, following: list[str]) -> None:
    """Where four of the people I follow went: two proven by their website, one
    whose account does not exist (its follow fails), one only by their word."""
    rows = [
        [following[0], "dave@remote.example", "domain"],
        [following[1], "erin@other.example", "domain"],
        [following[2], "ghost@gone.example", "domain"],
        [following[3], "maybe@nowhere.example", "self"],
    ]
    portal.python(
        f"""
        from hirondelle.identity.services.directory import assert_link, set_consent
        for x_id, handle, evidence in {json.dumps(rows)}:
            assert_link(x_id, "mastodon", handle, evidence=evidence, asserted_by="e2e")
            set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
        """
    )


def _without(zip_path: Path, dest: Path, drop: str) -> Path:
    """The same archive, re-zipped without one member (a trimmed archive)."""
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            if not info.filename.endswith(drop):
                out.writestr(info, src.read(info.filename))
    return dest


def _upload(page, archive: Path, *, posts: bool) -> None:
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/upload/")
    if posts:
        page.check("#republish")
    page.set_input_files("#archive-file", str(archive))
    page.wait_for_selector("#plan:not([hidden])")
    page.click("#start")
    page.wait_for_selector("#import-summary", timeout=90_000)
    page.wait_for_selector("#next:not([hidden])")


@pytest.mark.parametrize(
    ("lang", "width", "save"),
    [("fr", 390, True), ("en", 1280, True), ("en", 390, False), ("fr", 1280, False)],
    ids=["fr-phone", "en-desktop", "en-phone", "fr-desktop"],
)
def test_the_guided_path(browser, mastodon_peer, tmp_path, lang, width, save) -> None:
    assert AXE.exists(), "axe-core is missing: run scripts/bootstrap"
    spec = sample_spec(seed=5, n_posts=12, n_following=40, n_followers=15)
    archive = write_archive(tmp_path / "x", spec, zipped=True)
    trimmed = _without(archive, tmp_path / "trimmed.zip", "data/following.js")
    portal = serve_portal(tmp_path / "portal")
    context = browser.new_context(
        locale={"fr": "fr-FR", "en": "en-GB"}[lang],
        viewport={"width": width, "height": 900},
        device_scale_factor=1,
    )
    # Injected by the browser itself into every page (the pages' CSP forbids
    # any script not served by the site, and stays on).
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    walk = Walk(page, lang, width, save)
    base = portal.url
    try:
        # Welcome: what it does, what happens to the data, where to start.
        page.goto(base + "/")
        walk.check("welcome")
        # Keyboard: the first Tab reaches the skip link, which jumps to the content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        # The menu opens from the keyboard and fits the window.
        page.focus("details.menu > summary")
        page.keyboard.press("Enter")
        nav = page.query_selector("details.menu nav").bounding_box()
        assert nav["x"] >= 0
        assert nav["x"] + nav["width"] <= width
        page.keyboard.press("Enter")  # closed again

        # No account yet: what a server is, a few servers in my language, Bluesky.
        page.goto(base + "/signin/")
        servers = page.inner_text("#servers")
        assert ("piaille.fr" in servers) == (lang == "fr")
        assert "bsky.app" in page.get_attribute("#bluesky-help a", "href")
        walk.check("signin")
        page.fill("#server", mastodon_peer.base_url)
        page.click("#mastodon-form button[type=submit]")
        page.wait_for_url(re.compile(re.escape(mastodon_peer.base_url) + "/oauth/authorize.*"))
        page.click("button[value=alice]")
        page.wait_for_url(base + "/")
        walk.check("signed-in")

        # A trimmed archive: accepted, with a warning naming what is missing.
        page.goto(base + "/upload/")
        walk.check("upload")
        _upload(page, trimmed, posts=False)
        warning = page.inner_text("#import-summary .message.warning")
        assert {"fr": "les personnes que vous suivez", "en": "the people you follow"}[
            lang
        ] in warning
        assert "sum-following" not in page.inner_html("#import-summary")  # never "0 follows"
        walk.check("upload-missing-file")

        # The whole archive, with the posts: a summary in sentences, no warning.
        _upload(page, archive, posts=True)
        summary = page.inner_text("#import-summary")
        n = len(set(spec.following))
        assert {"fr": f"Vous suivez {n} comptes", "en": f"You follow {n} accounts"}[lang] in summary
        assert not page.query_selector("#import-summary .message.warning")
        walk.check("upload-summary")

        _seed_directory(portal, spec.following)

        # What I agree to: platform check boxes, none ticked.
        page.click("#next")
        box = page.query_selector("#consent-form input[type=checkbox]")
        assert page.evaluate("(b) => getComputedStyle(b).appearance", box) != "none"
        assert box.bounding_box()["width"] >= 16
        assert not any(
            b.is_checked() for b in page.query_selector_all("#consent-form input[type=checkbox]")
        )
        walk.check("consent")
        # Keyboard only: tick the first choice with Space, Tab to the button, Enter.
        page.focus("#consent-form input[name=findable]")
        page.keyboard.press("Space")
        assert page.is_checked("#consent-form input[name=findable]")
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.type") == "submit":
                break
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/review/")

        # What we found: people as people, the proof in words, ticks kept.
        walk.check("review")
        assert "dave@remote.example" in page.inner_text("fieldset[data-evidence=domain]")
        assert page.query_selector_all("#review-form .person .avatar")
        # Keyboard only: Tab to "Save and continue" and press Enter.
        page.focus("#review-form input[name=pick]")
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.value") == "accounts":
                break
        else:
            pytest.fail("Save and continue cannot be reached with the keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/run/")

        # Reconnect: one follow fails; the page says so, why, and what to do.
        walk.check("reconnect")
        page.click("#run-form button[type=submit]")
        page.wait_for_selector(".failures-box", timeout=90_000)
        eta = page.inner_text(".account-progress .eta")
        assert {"fr": "pas pu", "en": "could not be done"}[lang] in eta, eta
        assert "everything planned was done" not in eta.lower()
        failures = page.inner_text(".failures")
        assert "ghost@gone.example" in failures
        assert "HTTP" not in failures  # the server's words stay in the log
        assert "not found (" not in failures
        walk.check("reconnect-results")

        # My posts: a preview with sample posts, nothing published.
        page.goto(base + "/republish/")
        walk.check("posts")
        page.click("#republish-form button[value=preview]")
        page.wait_for_selector("#preview article.post")
        walk.check("posts-preview")

        # Later arrivals, and who has moved.
        page.goto(base + "/later/")
        since = page.inner_text("#since-last-visit")
        # Four arrived: two followed, one failed (never counted as followed), one waits.
        expected = {
            "fr": ["4 personnes", "Nous en avons suivi 2", "1 n’a pas pu être suivie"],
            "en": ["4 people", "We followed 2 of them", "1 could not be followed"],
        }[lang]
        assert all(text in since for text in expected), since
        walk.check("later")
        page.goto(base + "/stats/")
        walk.check("who-moved")
        page.goto(base + "/privacy/")
        walk.check("privacy")
        page.goto(base + "/lists/")
        walk.check("lists")
        page.goto(base + "/review/")
        page.click("#review-form .report >> nth=0")
        page.wait_for_selector("#report-form")
        walk.check("report")
        page.goto(base + "/delete/")
        walk.check("delete")
        page.check("input[name=confirm]")
        page.click("#delete-form button[type=submit]")
        page.wait_for_selector("#deleted")
        walk.check("deleted")
        assert not problems, problems
    finally:
        context.close()
        stop_portal(portal)
