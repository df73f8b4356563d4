"""Impersonation reports: anyone who sees a directory entry may say it is false.

A report never changes matching by itself: a moderator upholds it (the link
is rejected through `reject_link`, so it is never matched again, and the
follows not yet carried out towards that account are skipped) or dismisses
it. A reporter whose own X account is proven (an `x_oauth` link) and who
reports a link claiming that very X account is strong evidence: such reports
are flagged `reporter_proved_x` and listed first.

What `reject_link` alone does, and why `uphold` does more: it marks the link
rejected and re-settles the X account (a rival link may become current, and
the `directory_changed` signal queues arrivals only for current links), but
plan items already written keep their own copy of the target (handle, URI)
and would still be carried out. `uphold` therefore sends `impersonation_upheld`:
the migration app (which the directory does not import: it sits above it)
skips the pending follows and list additions aimed at the rejected account.
Blocks and mutes are left alone (they protect the person), and follows
already done cannot be undone from here: their number is returned so the
moderator can say so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.identity.models import (
    REPORT_TEXT_MAX,
    ImpersonationReport,
    Link,
    User,
)
from hirondelle.identity.services.directory import reject_link
from hirondelle.identity.services.errors import DirectoryError
from hirondelle.identity.signals import impersonation_upheld

__all__ = ["ReportError", "UpholdResult", "dismiss", "report_link", "uphold"]


class ReportError(DirectoryError):
    """A report that cannot be made or resolved as asked."""


@dataclass(frozen=True)
class UpholdResult:
    reports: tuple[int, ...]  # ids of the reports closed (every open one about the same link)
    link_rejected: bool  # False when the link was already gone
    follows_skipped: int  # pending follows / list additions cancelled
    follows_done: int  # already carried out: cannot be undone from here


def report_link(
    link: Link,
    reporter: User | None,
    reason: str,
    text: str = "",
    *,
    proven_x_ids: Collection[int] = (),
) -> tuple[ImpersonationReport, bool]:
    """Record a report; returns (report, created).

    One open report per reporter and link: reporting again returns the open
    one unchanged. `proven_x_ids` are the X ids X itself confirmed belong to
    the reporter (stored form, `portal.services.x_signin.proven_x_accounts`);
    the directory does not know people's connected accounts, so the caller
    passes them. Rate limiting is the caller's.
    """
    if reason not in ImpersonationReport.Reason.values:
        choices = ", ".join(ImpersonationReport.Reason.values)
        raise ReportError(f"{reason!r} is not a reason: use one of {choices}.")
    text = (text or "").strip()
    if len(text) > REPORT_TEXT_MAX:
        raise ReportError(f"The explanation is too long: at most {REPORT_TEXT_MAX} characters.")
    with transaction.atomic():
        if reporter is not None:
            held = ImpersonationReport.objects.filter(
                reporter=reporter, link=link, state=ImpersonationReport.State.OPEN
            ).first()
            if held is not None:
                return held, False
        account = link.network_account
        report = ImpersonationReport.objects.create(
            link=link,
            x_id=link.x_account_id,
            network=link.network,
            handle=account.handle,
            account_uri=account.uri,
            reporter=reporter,
            reporter_proved_x=link.x_account_id in set(proven_x_ids),
            reason=reason,
            text=text,
        )
    return report, True


def _close(reports, state: str, by: User | None) -> list[int]:
    """Close the open reports of this queryset; returns their ids."""
    ids = list(reports.filter(state=ImpersonationReport.State.OPEN).values_list("pk", flat=True))
    ImpersonationReport.objects.filter(pk__in=ids).update(
        state=state, resolved_at=timezone.now(), resolved_by=by
    )
    return ids


def _locked_open(report: ImpersonationReport) -> ImpersonationReport:
    fresh = ImpersonationReport.objects.select_for_update().get(pk=report.pk)
    if fresh.state != ImpersonationReport.State.OPEN:
        raise ReportError(f"This report was already {fresh.get_state_display()}.")
    return fresh


@transaction.atomic
def uphold(report: ImpersonationReport, by: User | None) -> UpholdResult:
    """The report is right: reject the link for good and cancel what it would still cause."""
    report = _locked_open(report)
    link = report.link
    if link is None:  # erased meanwhile; a re-assertion of the same pair is caught here
        link = Link.objects.filter(
            x_account_id=report.x_id,
            network_account__network=report.network,
            network_account__handle=report.handle,
        ).first()
    if link is not None:
        reject_link(link)
    # The apps above the directory (the migration's plans) cancel what they
    # planned towards the false account: the directory does not know them.
    answers = impersonation_upheld.send(
        sender=ImpersonationReport,
        x_id=report.x_id,
        network=report.network,
        handle=report.handle,
        account_uri=report.account_uri,
    )
    counts = [r for _, r in answers if isinstance(r, tuple)]
    skipped = sum(c[0] for c in counts)
    done = sum(c[1] for c in counts)
    same = Q(pk=report.pk) | Q(link=link) if link is not None else Q(pk=report.pk)
    closed = _close(ImpersonationReport.objects.filter(same), ImpersonationReport.State.UPHELD, by)
    return UpholdResult(tuple(sorted(closed)), link is not None, skipped, done)


@transaction.atomic
def dismiss(report: ImpersonationReport, by: User | None) -> ImpersonationReport:
    """The report is wrong: the link stays as it is. Other reports stay open."""
    report = _locked_open(report)
    _close(
        ImpersonationReport.objects.filter(pk=report.pk), ImpersonationReport.State.DISMISSED, by
    )
    report.refresh_from_db()
    return report
