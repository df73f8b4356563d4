"""Addresses from an archive or a profile become links only when they are http(s).

An archive is the uploader's word: a forged one can list `javascript:` or
`data:` addresses as X lists. They are shown as text, never as a link.
"""

from __future__ import annotations

import pytest
from django.test import Client

from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.importing import import_archive
from hirondelle.portal.templatetags.portal import external_link, http_url
from tests.support.x_archive import sample_spec, write_archive

HOSTILE = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)//https://twitter.com/i/lists/1",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/lists/1",
    "https:alert(1)",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_only_http_addresses_become_links(url):
    assert http_url(url) is None
    html = str(external_link(url))
    assert "<a " not in html
    assert "<script>" not in html  # and the text itself is escaped


@pytest.mark.parametrize(
    "url", ["https://twitter.com/i/lists/1111", "http://example.org/a?b=1&c=2"]
)
def test_http_addresses_are_links(url):
    html = str(external_link(url))
    assert html.startswith('<a href="')
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.django_db
def test_the_lists_page_never_links_a_hostile_address(django_user_model, tmp_path):
    spec = sample_spec(seed=7, n_posts=1, n_following=2, n_followers=1)
    spec.lists_created = ["https://twitter.com/i/lists/1111111111"]
    spec.lists_member = [*HOSTILE[:5], "https://twitter.com/i/lists/3333333333"]
    alice = django_user_model.objects.create(username="alice")
    import_archive(write_archive(tmp_path, spec), owner=alice)
    ConnectedAccount.objects.create(  # the page lists lists once an account is connected
        user=alice,
        network="bluesky",
        server="https://pds.example",
        handle="alice.test",
        remote_id="did:plc:aliceaaaaaaaaaaaaaaaaaaa",
        credentials={"app_password": "p"},
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)
    html = client.get("/lists/").content.decode()
    assert 'href="https://twitter.com/i/lists/3333333333"' in html
    lowered = html.lower()
    for scheme in ("javascript:", "java\tscript:", "data:"):
        assert f'href="{scheme}' not in lowered
        assert f'href=" {scheme}' not in lowered
    assert "javascript:alert(document.cookie)" in html  # shown, as text
    assert "<script>alert(1)</script>" not in html
