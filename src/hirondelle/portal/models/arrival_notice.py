from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ArrivalNotice(models.Model):
    """One message telling a person who arrived: one batch of arrivals.

    States: ``pending`` (still collecting arrivals until `due_at`) →
    ``sending`` (closed: its text and idempotency key are fixed; `locked_until`
    is when another worker may try again) → ``sent`` (with the remote id), or
    ``failed``/``cancelled``. A sending notice is retried with the same key, so
    a worker killed after the network accepted the post finds that same post.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("collecting")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="arrival_notices",
        verbose_name=_("person"),
    )
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.PENDING)
    key = models.CharField(_("idempotency key"), max_length=64, default="", editable=False)
    due_at = models.DateTimeField(_("due"))
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    first_try_at = models.DateTimeField(
        _("first sent to the network"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Servers remember an idempotency key for about an hour only."),
    )
    text = models.TextField(_("message"), blank=True)
    sender = models.CharField(_("sent by"), max_length=255, blank=True)
    remote_id = models.CharField(_("remote id"), max_length=500, blank=True)
    remote_url = models.URLField(_("remote address"), max_length=500, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("arrival notice")
        verbose_name_plural = _("arrival notices")
        constraints = [
            # At most one open batch per person: new arrivals join it.
            models.UniqueConstraint(
                fields=["user"], condition=Q(state="pending"), name="arrival_notice_one_open"
            )
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="arrival_notice_due")]

    def __str__(self) -> str:
        return f"notice {self.pk} for {self.user} ({self.state})"

    def save(self, *args, **kwargs) -> None:
        if not self.key:
            self.key = f"hirondelle-notice-{uuid.uuid4().hex}"
        super().save(*args, **kwargs)


class NoticeEntry(models.Model):
    """One arrival in one notice; unique per person, so never announced twice."""

    notice = models.ForeignKey(
        ArrivalNotice, on_delete=models.CASCADE, related_name="entries", verbose_name=_("notice")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("person"),
    )
    network = models.CharField(_("network"), max_length=16)
    x_account_id = models.BigIntegerField(_("X id"))
    handle = models.CharField(_("handle"), max_length=255)
    arrived_at = models.DateTimeField(_("arrived"))

    class Meta:
        verbose_name = _("announced arrival")
        verbose_name_plural = _("announced arrivals")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "network", "x_account_id"], name="notice_entry_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"
