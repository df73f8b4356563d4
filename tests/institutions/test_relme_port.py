"""The port of Mastodon's verify_link_service.rb, on pages served over real HTTP by
httpx's mock transport (the rule is what is under test here, not a network)."""

from __future__ import annotations

import httpx
import pytest

from hirondelle.networks.institution import relme

PROFILE = "https://social.example.fr/@jean_dupont"


def serve(body: bytes | str, status: int = 200, headers: dict | None = None):
    data = body.encode() if isinstance(body, str) else body

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"location": PROFILE})
        return httpx.Response(
            status, content=data, headers=headers or {"content-type": "text/html"}
        )

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("page", "verified"),
    [
        (f'<a rel="me" href="{PROFILE}">x</a>', True),
        (f'<a rel="nofollow me noopener" href="{PROFILE.upper()}">x</a>', True),
        (f'<link rel="me" href="{PROFILE}">', True),
        (f'<a href="{PROFILE}">no rel</a>', False),
        (f'<a rel="me" href="{PROFILE}/other">x</a>', False),
        ('<script>document.write(\'<a rel="me" href="' + PROFILE + "\">')</script>", False),
        ('<a rel="me" href="https://page.example/redirect">x</a>', True),
        ("", False),
    ],
)
def test_the_rule(page, verified):
    assert (
        relme.verify_link("https://www.example.fr/o.html", PROFILE, transport=serve(page))
        is verified
    )


def test_only_https_fields_without_userinfo_or_idn():
    page = f'<a rel="me" href="{PROFILE}">x</a>'
    for url in (
        "http://www.example.fr/o.html",
        "https://u:p@www.example.fr/o.html",
        "https://xn--bcher-kva.example/o",
    ):
        assert relme.verify_link(url, PROFILE, transport=serve(page)) is False


def test_link_past_one_megabyte_is_not_seen():
    filler = "<p>" + "x" * relme.MAX_BODY + "</p>"
    assert not relme.verify_link(
        "https://www.example.fr/o.html",
        PROFILE,
        transport=serve(filler + f'<a rel="me" href="{PROFILE}">x</a>'),
    )


def test_non_200_is_refused():
    page = f'<a rel="me" href="{PROFILE}">x</a>'
    assert not relme.verify_link(
        "https://www.example.fr/o.html", PROFILE, transport=serve(page, 404)
    )


def test_rendered_page_escapes_and_verifies_everyone():
    entries = [
        relme.RelMeEntry("Jean <b>Dupont</b>", "G", PROFILE, "@jean_dupont@social.example.fr"),
        relme.RelMeEntry("Zoé", "", "https://social.example.fr/@zoe", "@zoe@social.example.fr"),
    ]
    page = relme.render_page("Officiels", "intro", entries)
    assert "<b>" not in page
    for e in entries:
        assert relme.link_back_present(page, e.profile_url) == (True, None)
