"""Cancel what plans would still do towards an account found to be an impersonation.

The directory (`identity`) upholds the report and sends `impersonation_upheld`;
it does not know the migration app that sits above it. Plan items keep their
own copy of the target (handle, URI), so rejecting the link alone would not
stop them: the pending follows and list additions aimed at the false account
are skipped here. Blocks and mutes stay (they protect the person).
"""

from __future__ import annotations

from django.db.models import Q

from hirondelle.identity.models import x_id_from_db
from hirondelle.migration.models import PlanItem
from hirondelle.networks.base import ActionKind

__all__ = ["cancel_towards"]

#: Plan item kinds an upheld report cancels.
CANCELLED_KINDS = (ActionKind.FOLLOW, ActionKind.LIST_ADD)


def cancel_towards(
    sender: object, *, x_id: int, network: str, handle: str, account_uri: str, **kwargs: object
) -> tuple[int, int]:
    """Skip every person's pending follows of the false account; returns (skipped, done)."""
    x_ids = {str(x_id), str(x_id_from_db(x_id))}
    target = Q(target_handle=handle)
    if account_uri:
        target |= Q(target_id=account_uri)
    follows = PlanItem.objects.filter(
        target, account__network=network, kind__in=CANCELLED_KINDS, x_id__in=x_ids
    )
    skipped = follows.filter(state=PlanItem.State.PENDING).update(
        state=PlanItem.State.SKIPPED,
        last_error="The directory entry was reported as an impersonation and rejected.",
    )
    done = follows.filter(state=PlanItem.State.DONE).count()
    return skipped, done
