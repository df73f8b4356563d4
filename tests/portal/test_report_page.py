"""Reporting an impersonation from the review and "since then" pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hirondelle.identity.models import ImpersonationReport, Link
from hirondelle.identity.services.directory import assert_link, set_consent
from tests.portal.conftest import user_of

pytestmark = pytest.mark.django_db

STRANGER = 987654321


def _claim(x_id, handle: str, *, findable: bool = True, at=None) -> Link:
    link = assert_link(
        x_id, "mastodon", handle, evidence="domain", asserted_by="test", asserted_at=at
    )
    set_consent(x_id, findable=findable, auto_followable=False, auto_follow_arrivals=False)
    return link


@pytest.fixture
def found(alice_migration, archive_folder) -> Link:
    """Someone alice follows on X, found on Mastodon."""
    spec, _ = archive_folder
    return _claim(spec.following[0], "famous@evil.example")


def test_review_and_later_pages_link_to_the_report_page(alice, found, archive_folder) -> None:
    url = f"/report/{found.pk}/"
    assert f'href="{url}?back=review"' in alice.get("/review/").content.decode()
    spec, _ = archive_folder
    newcomer = _claim(
        spec.following[1], "new@elsewhere.example", at=timezone.now() + timedelta(minutes=1)
    )
    later = alice.get("/later/").content.decode()
    assert f'href="/report/{newcomer.pk}/?back=later"' in later


def test_report_is_recorded_once(alice, found) -> None:
    page = alice.get(f"/report/{found.pk}/?back=later", headers={"accept-language": "en"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "famous@evil.example" in html
    assert 'name="reason"' in html
    assert "csrfmiddlewaretoken" in html
    response = alice.post(
        f"/report/{found.pk}/",
        {"reason": "pretends", "text": "Their bio links to a scam.", "back": "later"},
        follow=True,
        headers={"accept-language": "en"},
    )
    assert response.redirect_chain[-1][0] == "/later/"
    assert "The moderators will look at famous@evil.example" in response.content.decode()
    report = ImpersonationReport.objects.get()
    assert (report.reporter, report.reason, report.text, report.link) == (
        user_of(alice),
        "pretends",
        "Their bio links to a scam.",
        found,
    )
    assert not report.reporter_proved_x
    again = alice.post(
        f"/report/{found.pk}/",
        {"reason": "other"},
        follow=True,
        headers={"accept-language": "en"},
    )
    assert "already reported" in again.content.decode()
    assert ImpersonationReport.objects.count() == 1


def test_a_bad_form_is_shown_again(alice, found) -> None:
    response = alice.post(f"/report/{found.pk}/", {"reason": "nonsense"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    too_long = alice.post(f"/report/{found.pk}/", {"reason": "other", "text": "x" * 1001})
    assert too_long.context["form"].errors["text"]
    assert not ImpersonationReport.objects.exists()


def test_links_the_person_cannot_see_answer_404(alice, bob, found, archive_folder) -> None:
    spec, _ = archive_folder
    stranger = _claim(STRANGER, "someone@else.example")  # not in alice's graph
    hidden = _claim(spec.following[2], "hidden@else.example", findable=False)
    for link_id in (stranger.pk, hidden.pk, 999_999):
        assert alice.get(f"/report/{link_id}/").status_code == 404
        assert alice.post(f"/report/{link_id}/", {"reason": "other"}).status_code == 404
    # Bob has no archive: alice's found accounts are not his to probe.
    assert bob.get(f"/report/{found.pk}/").status_code == 404
    assert bob.post(f"/report/{found.pk}/", {"reason": "other"}).status_code == 404
    # A rejected link is no longer shown, so no longer reportable.
    Link.objects.filter(pk=found.pk).update(state=Link.State.REJECTED)
    assert alice.get(f"/report/{found.pk}/").status_code == 404
    assert not ImpersonationReport.objects.exists()


def test_not_signed_in_goes_to_sign_in(found) -> None:
    response = Client().get(f"/report/{found.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    response = Client().post(f"/report/{found.pk}/", {"reason": "other"})
    assert response.status_code == 302
    assert not ImpersonationReport.objects.exists()


def test_a_post_without_csrf_token_is_refused(alice, found) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user_of(alice))
    assert strict.post(f"/report/{found.pk}/", {"reason": "other"}).status_code == 403
    assert not ImpersonationReport.objects.exists()


def test_a_proven_x_owner_reports_who_claims_to_be_them(alice, alice_migration) -> None:
    me = alice_migration.x_account_id
    # X confirmed alice's X account is hers (her connected account is alice.test).
    assert_link(me, "bluesky", "alice.test", "did:plc:alice", evidence="x_oauth", asserted_by="x")
    impostor = _claim(me, "alice@evil.example")
    review = alice.get("/review/", headers={"accept-language": "en"}).content.decode()
    section = review[review.index('id="claims-on-me"') :]
    section = section[: section.index("</section>")]
    assert "Accounts that claim to be you" in section
    assert f'href="/report/{impostor.pk}/?back=review"' in section
    assert "alice.test" not in section  # her own account is not a claim against her
    response = alice.post(f"/report/{impostor.pk}/", {"reason": "not_mine"})
    assert response.status_code == 302
    report = ImpersonationReport.objects.get()
    assert report.reporter_proved_x
    assert report.x_id == me


def test_no_claims_section_without_a_proof(alice, found) -> None:
    assert 'id="claims-on-me"' not in alice.get("/review/").content.decode()


def test_reports_are_rate_limited_per_person(alice, found) -> None:
    for _ in range(10):
        assert alice.post(f"/report/{found.pk}/", {"reason": "other"}).status_code == 302
    limited = alice.post(f"/report/{found.pk}/", {"reason": "other"})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_the_page_is_in_french(alice, found) -> None:
    html = alice.get(f"/report/{found.pk}/", headers={"accept-language": "fr"}).content.decode()
    assert "Signaler une usurpation" in html
    assert "Ce compte se fait passer pour quelqu" in html
    assert "Envoyer le signalement" in html
