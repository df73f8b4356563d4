"""The public institution page in Debian's Chromium (Playwright) at 390 px wide,
served by `hirondelle serve` as on a laptop."""

from __future__ import annotations

import pytest

from tests.support.browser import serve_portal, stop_portal

SEED = """
from hirondelle.institutions.models import Official
from hirondelle.institutions.services.setup import add_institution
inst = add_institution("region", "Conseil régional de démonstration")
D = "social.region-demonstration.example.fr"
for i in range(30):
    Official.objects.create(
        institution=inst, name=f"Marie-Thérèse de La Rochefoucauld-Montbel {i}", x_id=1000 + i,
        email=f"o{i}@example.fr", group="Groupe des élus très longuement nommés",
        bluesky_state="claimed", bluesky_did=f"did:plc:{i:024d}",
        bluesky_handle=f"mt-larochefoucauld{i}.{D}",
        verification_rkey="x", verified_handle=f"mt-larochefoucauld{i}.{D}",
        verified_name=f"Marie-Thérèse de La Rochefoucauld-Montbel {i}",
        fediverse_state="claimed", fediverse_address=f"mt_larochefoucauld{i}@{D}",
        fediverse_url=f"https://{D}/@mt_larochefoucauld{i}",
    )
"""


@pytest.mark.slow
def test_readable_on_a_phone_in_both_languages(browser, tmp_path):
    portal = serve_portal(tmp_path / "portal-data")
    try:
        portal.python(SEED)
        for lang, words in (("fr", "membres sont arrivés"), ("en", "officials have arrived")):
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale=lang)
            page = context.new_page()
            page.goto(f"{portal.url}/institutions/region/")
            assert words in page.content()
            assert "30" in page.inner_text("main")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways at 390 px ({width} px) in {lang}"
            assert (
                page.get_by_role(
                    "link", name="@mt-larochefoucauld0.social.region-demonstration.example.fr"
                ).count()
                == 1
            )
            context.close()
    finally:
        stop_portal(portal)
