"""Every institution action lands in the audit log (Django's LogEntry, read-only in the admin)."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models

__all__ = ["SYSTEM_USERNAME", "record"]

#: the author of actions run from the command line or a background task
SYSTEM_USERNAME = "institution-tools"


def _actor(user):
    if user is not None and getattr(user, "pk", None):
        return user
    actor, _ = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False}
    )
    return actor


def record(obj: models.Model, message: str, *, user=None) -> None:
    """One audit entry on `obj` saying what was done (never a secret)."""
    LogEntry.objects.create(
        user=_actor(user),
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=CHANGE,
        change_message=message[:2000],
    )
