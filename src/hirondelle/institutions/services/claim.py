"""An official claims their account on the portal: work e-mail, the PDS's code, their password.

1. `request_code`: the official gives their work e-mail; if it is on the
   roster and the account waits to be claimed, a background task asks the PDS
   for its real reset e-mail (within the PDS's limit, see `invites`). Nothing
   tells whether the address is on the roster: the page says the same either way.
2. `claim_with_code`: the official enters the code and their own new
   password. Hirondelle hands both to the PDS (`resetPassword`), checks that
   the password now opens *this* official's account, and forgets it: it is
   never stored or logged. The password Hirondelle had chosen is erased.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from hirondelle.institutions.models import Institution, Official, ResetEmail
from hirondelle.institutions.services import audit
from hirondelle.networks.errors import AuthExpired, NetworkError, RateLimited

__all__ = ["ClaimError", "claim_with_code", "claimable", "request_code"]

#: a new code for the same official at most this often (each one costs the PDS budget)
CODE_EVERY = timedelta(minutes=5)
MIN_PASSWORD = 8
WAITING = (Official.Bluesky.CREATED, Official.Bluesky.INVITED)


class ClaimError(Exception):
    """What the official reads; `code` names the case for the page's own wording."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def claimable(institution: Institution, email: str) -> Official | None:
    email = (email or "").strip()
    if "@" not in email or len(email) > 254:
        return None
    return (
        institution.officials.filter(email__iexact=email, bluesky_state__in=WAITING)
        .exclude(bluesky_did="")
        .first()
    )


def request_code(institution: Institution, email: str) -> None:
    """Queue the PDS's claim e-mail for this address if it may claim; silent either way.

    A roster address and a stranger's cost the same queries and the same queued
    task (id 0 does nothing), so not even the answer's timing tells them apart.
    """
    from hirondelle.institutions import tasks

    official = claimable(institution, email)
    official_id = official.pk if official is not None else 0
    recent = ResetEmail.objects.filter(
        official_id=official_id, sent_at__gt=timezone.now() - CODE_EVERY
    ).exists()
    queued = 0 if recent else official_id
    transaction.on_commit(lambda: tasks.send_claim_code.enqueue(queued))


def send_code_now(official: Official) -> datetime | bool:
    """The background half of `request_code`: True if sent, False if no longer
    needed or refused, else when the PDS will accept it."""
    from hirondelle.institutions.services.bluesky import _server, pds_client
    from hirondelle.institutions.services.invites import send_one, take_slot

    if official.bluesky_state not in WAITING:
        return False
    server = _server(official.institution)
    taken = take_slot(server, official)
    if taken is not True:
        return taken
    with pds_client(server) as pds:
        return send_one(official, pds)


@sensitive_variables("password")
def claim_with_code(institution: Institution, email: str, code: str, password: str) -> Official:
    """Set the official's own password with the PDS's code; the account is theirs."""
    from hirondelle.institutions.services.bluesky import _server, pds_client

    official = claimable(institution, email)
    if len(password) < MIN_PASSWORD:
        raise ClaimError("short")
    if official is None or not code.strip():
        raise ClaimError("refused")
    with pds_client(_server(institution)) as pds:
        try:
            pds.reset_password(code, password)
        except RateLimited as exc:
            raise ClaimError("busy") from exc
        except AuthExpired as exc:
            raise ClaimError("refused") from exc
        except NetworkError as exc:
            if getattr(exc, "status", None) and exc.status < 500:
                raise ClaimError("refused") from exc
            raise ClaimError("unavailable") from exc
        try:
            # The code may belong to another account: only this official's counts.
            session = pds.create_session(official.bluesky_did, password)
        except NetworkError as exc:
            raise ClaimError("refused") from exc
    if session.did != official.bluesky_did:
        raise ClaimError("refused")
    official.bluesky_state = Official.Bluesky.CLAIMED
    official.secret = None  # the password Hirondelle chose is gone for good
    official.save(update_fields=["bluesky_state", "secret", "updated_at"])
    audit.record(official, "Bluesky account claimed by its owner on the portal")
    return official
