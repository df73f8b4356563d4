"""Every page a person uses, with the keyboard only, in a real browser
(Debian's Chromium via Playwright) against `hirondelle serve`.

On each page, from a fresh load, Tab is pressed until focus comes back to
the first control, and:
- the first Tab reaches the skip link, and Enter on it moves focus to the
  content;
- every visible control (links, buttons, fields, summaries; one per radio
  group) is reached, in the order of the page (no positive tabindex);
- focus never sticks (no keyboard trap): it comes round to the start again;
- every focused control shows a focus indicator (an outline or a box-shadow
  of its own, or on the label that stands for a visually hidden control).
Between pages, the flow itself is driven by the keyboard: Enter on links and
buttons, Space on check boxes and the file field, Enter on the menu.

Sign-in goes through mastodon-mock (an imitation of Mastodon's API on
127.0.0.1, not Mastodon); its own authorization page is not ours and is
clicked.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.portal.test_browser_ux import _seed_directory
from tests.support.browser import serve_portal, stop_portal
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.slow

#: Marks every control a keyboard should reach, in page order (and every box
#: that scrolls, which Chromium makes reachable); returns them.
MARK = """() => {
  const sel = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const out = [];
  let i = 0;
  // A box that scrolls is focusable too (Chromium lets the keyboard scroll it).
  const scroller = (e) => {
    const st = getComputedStyle(e);
    return (/(auto|scroll)/.test(st.overflowY) && e.scrollHeight > e.clientHeight)
      || (/(auto|scroll)/.test(st.overflowX) && e.scrollWidth > e.clientWidth);
  };
  for (const e of document.body.querySelectorAll('*')) {
    delete e.dataset.kb;
    const control = e.matches(sel);
    if (!control && !(e.tagName !== 'MAIN' && scroller(e))) continue;
    if (e.disabled || e.type === 'hidden') continue;
    if (control ? e.tabIndex < 0 : e.getAttribute('tabindex') === '-1') continue;
    if (e.closest('[hidden], [inert]')) continue;
    const style = getComputedStyle(e);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (e.tagName !== 'SUMMARY' && !e.getClientRects().length) continue;
    const closed = e.closest('details:not([open])');
    if (closed && e.tagName !== 'SUMMARY') continue;
    if (closed && e.tagName === 'SUMMARY' && closed.querySelector('summary') !== e) continue;
    e.dataset.kb = String(i);
    out.push({
      i, tag: e.tagName, type: e.type || '', name: e.name || '', tabindex: e.tabIndex,
      html: e.outerHTML.slice(0, 100),
    });
    i += 1;
  }
  return out;
}"""

#: What has focus now: its mark, and whether a focus indicator shows.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const shows = (el) => {
    if (!el) return false;
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    return outline || (s.boxShadow && s.boxShadow !== 'none');
  };
  const stand_in = e.labels && e.labels.length ? e.labels[0] : null;
  return {
    kb: e.dataset.kb === undefined ? null : Number(e.dataset.kb),
    html: e.outerHTML.slice(0, 100),
    indicator: shows(e) || shows(stand_in),
  };
}"""


class Keyboard:
    """The checks of the module docstring, page after page."""

    def __init__(self, page) -> None:
        self.page = page
        self.checked: list[str] = []

    def check(self, name: str, *, fresh: bool = True) -> None:
        """The checks above; `fresh`: the page was just loaded, so the very
        first Tab must reach the skip link."""
        page = self.page
        page.wait_for_load_state("load")
        controls = page.evaluate(MARK)
        assert controls, f"{name}: no control at all"
        positive = [c["html"] for c in controls if c["tabindex"] > 0]
        assert not positive, f"{name}: positive tabindex changes the order: {positive}"
        skip = next(c["i"] for c in controls if c["html"].startswith('<a class="skip"'))
        first = None
        cycle: list[int] | None = None
        no_indicator: list[str] = []
        for _ in range(4 * len(controls) + 12):  # a date field takes a Tab per part
            page.keyboard.press("Tab")
            now = page.evaluate(FOCUSED)
            if now is None:
                continue  # past the last control, the browser's own turn
            assert now["kb"] is not None, f"{name}: focus went to an unlisted {now['html']}"
            if first is None:
                first = now["kb"]
            if now["kb"] == skip:
                if cycle is not None:
                    break  # round once, from the skip link back to it
                cycle = []
            if cycle is not None:
                cycle.append(now["kb"])
                if not now["indicator"]:
                    no_indicator.append(now["html"])
        else:
            pytest.fail(f"{name}: focus never came round to the skip link again (a trap?)")
        if fresh and "#" not in page.url:  # a #main address starts focus in the content
            assert first == skip, f"{name}: the first Tab reaches {controls[first]['html']}"
        assert cycle == sorted(cycle), f"{name}: Tab does not follow the page's order: {cycle}"
        assert not no_indicator, f"{name}: no visible focus on {no_indicator}"
        reached = set(cycle)
        groups_reached = {controls[i]["name"] for i in reached if controls[i]["type"] == "radio"}
        missed = [
            c["html"]
            for c in controls
            if c["i"] not in reached and not (c["type"] == "radio" and c["name"] in groups_reached)
        ]
        assert not missed, f"{name}: never reached with Tab: {missed}"
        # Focus is on the skip link again: Enter moves it to the content.
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main", name
        self.checked.append(name)
        # What folds away (details) opens with Enter, and what it holds is reached too.
        closed = page.evaluate(
            """() => [...document.querySelectorAll('details:not([open]) > summary')]
              .filter((s) => s.dataset.kb !== undefined)
              .map((s, i) => { s.dataset.fold = `${s.dataset.kb}-${i}`; return s.dataset.fold; })"""
        )
        if not closed:
            return
        is_open = "(f) => document.querySelector(`[data-fold='${f}']`).parentElement.open"
        for fold in closed:
            self.activate(f"[data-fold='{fold}']")
            assert page.evaluate(is_open, fold), f"{name}: Enter does not open {fold}"
        self.check(f"{name} (folded parts open)", fresh=False)
        for fold in closed:  # and Enter folds them again, as the page was
            self.activate(f"[data-fold='{fold}']")
            assert not page.evaluate(is_open, fold), f"{name}: Enter does not close {fold}"

    def tab_to(self, selector: str, limit: int = 200) -> None:
        """Tab (never click) until `selector` has focus."""
        page = self.page
        for _ in range(limit):
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
            page.keyboard.press("Tab")
        pytest.fail(f"{selector} cannot be reached with Tab on {page.url}")

    def activate(self, selector: str, key: str = "Enter") -> None:
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        self.tab_to(selector)
        self.page.keyboard.press(key)


def at(base: str, path: str) -> re.Pattern:
    """The page's address; the skip link leaves #main on it, which a form's
    redirect keeps."""
    return re.compile(re.escape(base + path) + r"(#main)?$")


INSTITUTION = """
from hirondelle.institutions.models import Official
from hirondelle.institutions.services.setup import add_institution
inst = add_institution("mairie", "Mairie de démonstration")
D = "social.mairie-demonstration.example.fr"
for i in range(3):
    Official.objects.create(
        institution=inst, name=f"Élue {i}", x_id=5000 + i, email=f"o{i}@example.fr",
        bluesky_state="claimed", bluesky_did=f"did:plc:{i:024d}",
        bluesky_handle=f"elue{i}.{D}", verification_rkey="x", verified_handle=f"elue{i}.{D}",
        verified_name=f"Élue {i}", fediverse_state="claimed",
        fediverse_address=f"elue{i}@{D}", fediverse_url=f"https://{D}/@elue{i}",
    )
"""


@pytest.mark.parametrize(
    ("locale", "width"), [("en-GB", 1280), ("fr-FR", 390)], ids=["en-desktop", "fr-phone"]
)
def test_every_page_with_the_keyboard_only(browser, mastodon_peer, tmp_path, locale, width):
    spec = sample_spec(seed=5, n_posts=12, n_following=40, n_followers=15)
    archive = write_archive(tmp_path / "x", spec, zipped=True)
    portal = serve_portal(tmp_path / "portal")
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    kb = Keyboard(page)
    base = portal.url
    try:
        portal.python(INSTITUTION)
        page.goto(base + "/")
        kb.check("welcome")
        # The checks can fail: a link whose focus is hidden, then a trap.
        page.evaluate(
            """() => { const a = document.querySelector('a.brand');
              a.style.setProperty('outline', 'none', 'important');
              a.style.setProperty('box-shadow', 'none', 'important'); }"""
        )
        with pytest.raises(AssertionError, match="no visible focus"):
            kb.check("welcome, focus hidden", fresh=False)
        page.reload()
        page.evaluate(
            """() => document.querySelector('a.brand').addEventListener('keydown',
              (e) => { if (e.key === 'Tab') e.preventDefault(); })"""
        )
        with pytest.raises(pytest.fail.Exception, match="a trap"):
            kb.check("welcome, trapped", fresh=False)
        page.goto(base + "/")
        # The menu opens and closes with Enter.
        kb.activate("details.menu > summary")
        assert page.evaluate("document.querySelector('details.menu').open")
        kb.check("welcome, menu open", fresh=False)
        page.keyboard.press("Escape")

        kb.activate("a[href='/signin/']")
        page.wait_for_url(at(base, "/signin/"))
        kb.check("sign-in and account-creation help")
        kb.tab_to("#server")
        page.keyboard.type(mastodon_peer.base_url)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(re.escape(mastodon_peer.base_url) + "/oauth/authorize.*"))
        page.click("button[value=alice]")  # mastodon-mock's page, not ours
        page.wait_for_url(at(base, "/"))
        kb.check("welcome, signed in")

        kb.activate("main a[href='/upload/']")
        page.wait_for_url(at(base, "/upload/"))
        kb.check("upload")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        kb.tab_to("#republish")
        page.keyboard.press("Space")
        assert page.is_checked("#republish")
        kb.tab_to("#archive-file")
        chooser = None
        for key in ("Space", "Enter"):  # either opens it; on a busy machine one may be missed
            try:
                with page.expect_file_chooser(timeout=15_000) as chooser:
                    page.keyboard.press(key)
                break
            except PlaywrightTimeout:
                assert page.evaluate("() => document.activeElement.id") == "archive-file"
        else:
            pytest.fail("the archive field does not open the file chooser from the keyboard")
        chooser.value.set_files(str(archive))
        page.wait_for_selector("#plan:not([hidden])")
        kb.activate("#start")
        page.wait_for_selector("#import-summary", timeout=90_000)
        page.wait_for_selector("#next:not([hidden])")
        kb.check("import summary", fresh=False)
        _seed_directory(portal, spec.following)

        kb.activate("#next")
        page.wait_for_url(at(base, "/consent/"))
        kb.check("consent")
        kb.activate("#consent-form input[name=findable]", "Space")
        assert page.is_checked("#consent-form input[name=findable]")
        kb.tab_to("#consent-form [type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(at(base, "/review/"))

        kb.check("review")
        first_tick = "#review-form input[name=pick]"
        was = page.is_checked(first_tick)
        kb.activate(first_tick, "Space")
        assert page.is_checked(first_tick) != was
        page.keyboard.press("Space")
        assert page.is_checked(first_tick) == was
        kb.activate("#review-form .report")
        page.wait_for_selector("#report-form")
        kb.check("report form", fresh=False)
        page.goto(base + "/review/")
        kb.activate("#review-form button[value=accounts]")
        page.wait_for_url(at(base, "/run/"))
        kb.check("accounts and run")
        kb.activate("#run-form button[type=submit]")
        page.wait_for_selector(".failures-box", timeout=90_000)
        kb.check("results", fresh=False)

        page.goto(base + "/republish/")
        kb.check("posts")
        kb.activate("#republish-form button[value=preview]")
        page.wait_for_selector("#preview article.post")
        kb.check("posts preview", fresh=False)

        for path, name in (
            ("/later/", "since your last visit"),
            ("/lists/", "lists"),
            ("/stats/", "who moved"),
            ("/privacy/", "privacy"),
            ("/institutions/mairie/", "institution page"),
            ("/institutions/mairie/follow/", "follow all officials"),
            ("/delete/", "delete everything"),
        ):
            page.goto(base + path)
            kb.check(name)
        kb.activate("input[name=confirm]", "Space")
        assert page.is_checked("input[name=confirm]")
        kb.activate("#delete-form button[type=submit]")
        page.wait_for_selector("#deleted")
        kb.check("deleted", fresh=False)
        assert not problems, problems
        print(json.dumps(kb.checked))
    finally:
        context.close()
        stop_portal(portal)
