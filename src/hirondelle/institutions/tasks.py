"""Background work for institutions: claim e-mails at the PDS's pace."""

from __future__ import annotations

from django_tasks import task

from hirondelle.institutions.models import Institution, Server

__all__ = ["send_claim_code", "send_invitations", "switch_full_name_handles"]


@task()
def send_invitations(institution_id: int) -> dict:
    """Send the claim e-mails the PDS accepts now, then come back when it accepts more."""
    from hirondelle.institutions.services import invites

    institution = Institution.objects.filter(pk=institution_id).first()
    if institution is None:
        return {"sent": 0, "left": 0}
    Server.objects.filter(institution=institution, kind=Server.Kind.PDS).update(
        invites_wake_at=None
    )
    result = invites.send_due(institution)
    if result.next_at is not None:
        invites.schedule(institution, result.next_at)
    return {"sent": result.sent, "left": result.left, "failed": result.failed}


@task()
def send_claim_code(official_id: int) -> dict:
    """An official asked for a code on the portal: send it now, or when the PDS allows."""
    from hirondelle.institutions.models import Official
    from hirondelle.institutions.services.claim import send_code_now

    official = Official.objects.select_related("institution").filter(pk=official_id).first()
    if official is None:
        return {"sent": False}
    outcome = send_code_now(official)
    if isinstance(outcome, bool):
        return {"sent": outcome}
    send_claim_code.using(run_after=outcome).enqueue(official_id)
    return {"sent": False, "later": outcome.isoformat()}


@task()
def switch_full_name_handles(institution_id: int) -> dict:
    """Switch the full-name handles that resolve now; try the others again in an hour,
    for two weeks after the officials' accounts were made (DNS takes time)."""
    from django.utils import timezone

    from hirondelle.institutions.services import full_name_handles as fnh

    institution = Institution.objects.filter(pk=institution_id).first()
    if institution is None:
        return {"switched": 0, "waiting": 0}
    Server.objects.filter(institution=institution, kind=Server.Kind.PDS).update(
        handles_wake_at=None
    )
    report = fnh.switch_handles(institution)
    newest = institution.officials.order_by("-updated_at").values_list("updated_at", flat=True)
    if report.waiting and newest and timezone.now() - newest[0] < fnh.RETRY_FOR:
        fnh.schedule(institution, timezone.now() + fnh.RETRY_EVERY)
    return {"switched": len(report.switched), "waiting": len(report.waiting)}
