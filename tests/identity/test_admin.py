import pytest
from django.urls import reverse

from hirondelle.identity.models import Link, LinkConflict
from hirondelle.identity.services.directory import assert_link

pytestmark = pytest.mark.django_db


def claim(x, handle, evidence):
    return assert_link(x, "mastodon", handle, evidence=evidence, asserted_by="t")


def test_conflicts_are_listed_and_resolved_from_the_admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the admin is French by default
    claim(7, "impostor@evil.example", "self")
    claim(7, "famous@news.example", "roster")
    claim(8, "one@a.social", "self")
    claim(8, "two@a.social", "self")
    url = reverse("admin:identity_linkconflict_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    detail = admin_client.get(
        reverse(
            "admin:identity_linkconflict_change", args=[LinkConflict.objects.get(x_account_id=7).pk]
        )
    )
    assert b"impostor@evil.example" in detail.content
    response = admin_client.post(
        url,
        {
            "action": "keep_strongest",
            "_selected_action": list(LinkConflict.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert b"1 conflict resolved" in response.content
    assert b"tie" in response.content
    assert Link.objects.get(network_account__handle="impostor@evil.example").state == "rejected"
    assert LinkConflict.objects.get(x_account_id=8).resolved_at is None


def test_prefer_a_link_settles_a_tie(admin_client):
    claim(8, "one@a.social", "self")
    two = claim(8, "two@a.social", "self")
    admin_client.post(
        reverse("admin:identity_link_changelist"),
        {"action": "prefer_links", "_selected_action": [two.pk]},
    )
    assert Link.objects.get(pk=two.pk).state == "current"
    assert Link.objects.get(network_account__handle="one@a.social").state == "rejected"
    assert LinkConflict.objects.get().resolved_at is not None
    assert admin_client.get(reverse("admin:identity_link_changelist") + "?q=two").status_code == 200


def test_prefer_a_rejected_link_without_rivals_brings_it_back(admin_client):
    from hirondelle.identity.services.directory import reject_link

    only = claim(9, "only@a.social", "self")
    reject_link(only)
    admin_client.post(
        reverse("admin:identity_link_changelist"),
        {"action": "prefer_links", "_selected_action": [only.pk]},
    )
    assert Link.objects.get(pk=only.pk).state == "current"
    assert not LinkConflict.objects.exists()
