"""Impersonation reports: made once, upheld (link rejected, follows cancelled) or dismissed."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from hirondelle.identity.models import ImpersonationReport, Link, User
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.identity.services.reports import ReportError, dismiss, report_link, uphold
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.erasure import erase_person
from hirondelle.migration.services.matching import match_migration
from hirondelle.migration.services.planning import build_plan

pytestmark = pytest.mark.django_db

FAMOUS = 42


def _impostor(x_id: int = FAMOUS, handle: str = "famous@evil.example") -> Link:
    link = assert_link(
        x_id,
        "mastodon",
        handle,
        f"https://{handle.split('@')[1]}/users/{handle.split('@')[0]}",
        evidence="domain",
        asserted_by="test",
    )
    set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    return link


def _handles(migration) -> set[str]:
    return {m.handle for m in match_migration(migration)}


def test_one_open_report_per_reporter_and_link(person) -> None:
    link = _impostor()
    first, created = report_link(link, person, "pretends", "  not them  ")
    assert created
    assert first.text == "not them"
    again, created_again = report_link(link, person, "other", "")
    assert not created_again
    assert again.pk == first.pk
    other_person = User.objects.create(username="bob")
    _, created_by_other = report_link(link, other_person, "pretends")
    assert created_by_other
    assert ImpersonationReport.objects.filter(link=link).count() == 2
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ImpersonationReport.objects.create(
            link=link, x_id=FAMOUS, network="mastodon", handle="x", reporter=person, reason="other"
        )
    # Once closed, the same person may report again.
    dismiss(first, None)
    assert report_link(link, person, "pretends")[1]


def test_bad_reason_and_overlong_text_are_refused(person) -> None:
    link = _impostor()
    with pytest.raises(ReportError, match="not a reason"):
        report_link(link, person, "spam")
    with pytest.raises(ReportError, match="too long"):
        report_link(link, person, "other", "x" * 1001)
    assert not ImpersonationReport.objects.exists()


def test_the_report_keeps_its_own_copy_of_what_was_reported(person) -> None:
    link = _impostor()
    report, _ = report_link(link, person, "pretends")
    assert (report.x_id, report.network, report.handle, report.account_uri) == (
        FAMOUS,
        "mastodon",
        "famous@evil.example",
        "https://evil.example/users/famous",
    )


def test_proven_x_flag_only_for_the_reporters_own_x_id(person) -> None:
    link = _impostor()
    mine, _ = report_link(link, person, "not_mine", proven_x_ids=[FAMOUS])
    assert mine.reporter_proved_x
    other = _impostor(43, "someone@evil.example")
    theirs, _ = report_link(other, person, "not_mine", proven_x_ids=[FAMOUS])
    assert not theirs.reporter_proved_x


def test_uphold_rejects_the_link_for_everyone_and_cancels_pending_follows(person, graph) -> None:
    migration = graph({"following": [FAMOUS, 7]})
    link = _impostor()
    _impostor(7, "friend@good.example")
    account = ConnectedAccount.objects.create(
        user=person,
        network="mastodon",
        server="https://home.example",
        handle="alice@home.example",
        remote_id="https://home.example/users/alice",
        credentials={"access_token": "t"},
    )
    build_plan(migration, accounts=[account])
    follows = PlanItem.objects.filter(account=account, kind="follow")
    assert set(follows.values_list("target_handle", "state")) == {
        ("famous@evil.example", "pending"),
        ("friend@good.example", "pending"),
    }
    assert "famous@evil.example" in _handles(migration)
    reporter = User.objects.create(username="famous")
    report, _ = report_link(link, reporter, "not_mine")
    second, _ = report_link(link, User.objects.create(username="carol"), "pretends")

    result = uphold(report, person)

    assert result.link_rejected
    assert result.follows_skipped == 1
    assert result.follows_done == 0
    assert set(result.reports) == {report.pk, second.pk}  # all open reports of the link
    assert Link.objects.get(pk=link.pk).state == Link.State.REJECTED
    assert "famous@evil.example" not in _handles(migration)
    assert "friend@good.example" in _handles(migration)
    assert follows.get(target_handle="famous@evil.example").state == "skipped"
    assert follows.get(target_handle="friend@good.example").state == "pending"
    assert (
        not PlanItem.objects.due(timezone.now())
        .filter(target_handle="famous@evil.example")
        .exists()
    )
    second.refresh_from_db()
    assert second.state == "upheld"
    assert second.resolved_by == person
    # Asserting the same link again, even more strongly, does not bring it back.
    assert_link(FAMOUS, "mastodon", "famous@evil.example", evidence="roster", asserted_by="t")
    assert Link.objects.get(pk=link.pk).state == Link.State.REJECTED
    assert "famous@evil.example" not in _handles(migration)
    # A plan built afterwards does not add it either.
    build_plan(migration, accounts=[account])
    assert not follows.filter(target_handle="famous@evil.example", state="pending").exists()
    with pytest.raises(ReportError, match="already"):
        uphold(report, person)


def test_uphold_counts_follows_already_made(person, graph) -> None:
    migration = graph({"following": [FAMOUS]})
    link = _impostor()
    account = ConnectedAccount.objects.create(
        user=person,
        network="mastodon",
        server="https://home.example",
        handle="alice@home.example",
        credentials={"access_token": "t"},
    )
    build_plan(migration, accounts=[account])
    PlanItem.objects.filter(account=account).update(state="done")
    report, _ = report_link(link, person, "pretends")
    result = uphold(report, person)
    assert (result.follows_skipped, result.follows_done) == (0, 1)


def test_dismiss_leaves_the_link_and_other_reports(person, graph) -> None:
    migration = graph({"following": [FAMOUS]})
    link = _impostor()
    report, _ = report_link(link, person, "pretends")
    other, _ = report_link(link, User.objects.create(username="bob"), "pretends")
    dismissed = dismiss(report, person)
    assert dismissed.state == "dismissed"
    assert dismissed.resolved_at is not None
    assert Link.objects.get(pk=link.pk).state == Link.State.CURRENT
    assert "famous@evil.example" in _handles(migration)
    other.refresh_from_db()
    assert other.state == "open"
    with pytest.raises(ReportError):
        dismiss(report, person)


def test_erasing_the_reporter_keeps_the_report_anonymous(person) -> None:
    link = _impostor()
    reporter = User.objects.create(username="reporter")
    report, _ = report_link(link, reporter, "not_mine", "I am Jeanne Martin, see my site")
    kept, _ = report_link(link, person, "pretends", "their bio links to a scam")
    erase_person(reporter)
    report.refresh_from_db()
    assert report.reporter is None
    assert report.text == ""  # their own words could name them
    assert (report.handle, report.reason, report.state) == (
        "famous@evil.example",
        "not_mine",
        "open",
    )
    kept.refresh_from_db()
    assert (kept.reporter, kept.text) == (person, "their bio links to a scam")


def test_erasing_the_links_author_keeps_the_report_and_uphold_still_works(person) -> None:
    impostor = User.objects.create(username="impostor")
    link = assert_link(
        FAMOUS,
        "mastodon",
        "famous@evil.example",
        evidence="self",
        asserted_by="t",
        created_by=impostor,
    )
    report, _ = report_link(link, person, "pretends")
    erase_person(impostor)
    report.refresh_from_db()
    assert report.link is None
    assert report.handle == "famous@evil.example"
    result = uphold(report, person)
    assert not result.link_rejected
    assert result.reports == (report.pk,)
    # If the same claim is made again later, an open report would reject it again.
    again = assert_link(FAMOUS, "mastodon", "famous@evil.example", evidence="self", asserted_by="t")
    report2, _ = report_link(again, person, "pretends")
    assert uphold(report2, person).link_rejected


def _admin_post(admin_client, action: str, reports: list[ImpersonationReport]):
    return admin_client.post(
        reverse("admin:identity_impersonationreport_changelist"),
        {"action": action, "_selected_action": [r.pk for r in reports]},
        follow=True,
        headers={"accept-language": "en"},
    )


def test_admin_lists_proven_reports_first_and_filters(admin_client, person) -> None:
    plain, _ = report_link(_impostor(43, "a@evil.example"), person, "pretends")
    proven, _ = report_link(_impostor(), person, "not_mine", proven_x_ids=[FAMOUS])
    url = reverse("admin:identity_impersonationreport_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    assert [r.pk for r in page.context["cl"].result_list] == [proven.pk, plain.pk]
    only = admin_client.get(url + "?reporter_proved_x__exact=1")
    assert [r.pk for r in only.context["cl"].result_list] == [proven.pk]
    assert admin_client.get(url + "?q=a@evil").context["cl"].result_count == 1
    detail = admin_client.get(
        reverse("admin:identity_impersonationreport_change", args=[proven.pk])
    )
    assert b"famous@evil.example" in detail.content
    assert admin_client.get(reverse("admin:identity_impersonationreport_add")).status_code == 403


def test_admin_actions_resolve_and_write_the_audit_log(admin_client, admin_user, person) -> None:
    to_uphold, _ = report_link(_impostor(), person, "not_mine")
    to_dismiss, _ = report_link(_impostor(43, "b@evil.example"), person, "pretends")
    response = _admin_post(admin_client, "uphold_reports", [to_uphold])
    assert b"1 report upheld" in response.content
    response = _admin_post(admin_client, "dismiss_reports", [to_dismiss])
    assert b"1 report dismissed" in response.content
    to_uphold.refresh_from_db()
    to_dismiss.refresh_from_db()
    assert (to_uphold.state, to_uphold.resolved_by) == ("upheld", admin_user)
    assert to_dismiss.state == "dismissed"
    assert Link.objects.get(pk=to_uphold.link_id).state == "rejected"
    assert Link.objects.get(pk=to_dismiss.link_id).state == "current"
    report_type = ContentType.objects.get_for_model(ImpersonationReport)
    entries = LogEntry.objects.filter(user=admin_user, action_flag=CHANGE)
    logged = {(e.content_type_id, e.object_id, e.change_message) for e in entries}
    assert (
        report_type.pk,
        str(to_uphold.pk),
        "Upheld: link rejected, 0 pending follows cancelled.",
    ) in logged
    assert (report_type.pk, str(to_dismiss.pk), "Dismissed: the link stays.") in logged
    link_type = ContentType.objects.get_for_model(Link)
    assert entries.filter(content_type=link_type, object_id=str(to_uphold.link_id)).exists()
    # The read-only audit log lists them.
    log = admin_client.get(reverse("admin:admin_logentry_changelist") + "?q=evil.example")
    assert log.status_code == 200
    assert log.context["cl"].result_count >= 3
    # Acting again on closed reports changes nothing.
    _admin_post(admin_client, "dismiss_reports", [to_uphold])
    to_uphold.refresh_from_db()
    assert to_uphold.state == "upheld"


def test_link_actions_are_in_the_audit_log_too(admin_client, admin_user) -> None:
    link = _impostor()
    admin_client.post(
        reverse("admin:identity_link_changelist"),
        {"action": "reject_links", "_selected_action": [link.pk]},
    )
    assert LogEntry.objects.filter(
        user=admin_user,
        object_id=str(link.pk),
        content_type=ContentType.objects.get_for_model(Link),
    ).exists()


def test_upholding_one_report_closes_and_logs_all_of_the_same_link(
    admin_client, admin_user, person
) -> None:
    link = _impostor()
    first, _ = report_link(link, person, "pretends")
    second, _ = report_link(link, User.objects.create(username="bob"), "not_mine")
    response = _admin_post(admin_client, "uphold_reports", [first, second])
    assert b"2 reports upheld" in response.content
    report_type = ContentType.objects.get_for_model(ImpersonationReport)
    logged = set(
        LogEntry.objects.filter(content_type=report_type, user=admin_user).values_list(
            "object_id", flat=True
        )
    )
    assert logged == {str(first.pk), str(second.pk)}
