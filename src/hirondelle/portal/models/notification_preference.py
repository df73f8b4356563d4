from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationPreference(models.Model):
    """Whether, where and how often a person hears about arrivals (off by default).

    No e-mail: notices go to one of the person's own Mastodon accounts as a
    private (direct) status. `since` is when they opted in: only arrivals
    after it are announced, the older ones are on the "since then" page.
    """

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("as they arrive")
        DAILY = "daily", _("daily digest")
        WEEKLY = "weekly", _("weekly digest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("person"),
    )
    enabled = models.BooleanField(_("notify me"), default=False)
    account = models.ForeignKey(
        "migration.ConnectedAccount",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving account"),
    )
    frequency = models.CharField(
        _("how often"), max_length=16, choices=Frequency, default=Frequency.IMMEDIATE
    )
    language = models.CharField(_("language"), max_length=16, default="fr")
    since = models.DateTimeField(_("announced from"), null=True, blank=True)
    wake_at = models.DateTimeField(_("next check"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"notices for {self.user} ({self.frequency if self.enabled else 'off'})"

    @property
    def period(self) -> timedelta:
        """Time between two notices (the grouping window for "as they arrive")."""
        if self.frequency == self.Frequency.DAILY:
            return timedelta(days=1)
        if self.frequency == self.Frequency.WEEKLY:
            return timedelta(days=7)
        return IMMEDIATE_GROUPING


#: "As they arrive" still waits this long, so a burst (a directory snapshot
#: merged in chunks) makes one message, and the follows queued for the
#: arrivals are known when the message is written.
IMMEDIATE_GROUPING = timedelta(minutes=2)
