from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES
from hirondelle.identity.models.link import Link
from hirondelle.identity.models.x_account import XAccount


class LinkConflict(models.Model):
    """Two or more links send one X account to different accounts on one network.

    Recorded, never hidden: `winner` is the strongest link (None on a tie,
    which stays review-only until someone resolves it). One row per X account
    and network, reopened when a new contender arrives.
    """

    x_account = models.ForeignKey(
        XAccount,
        on_delete=models.CASCADE,
        related_name="conflicts",
        verbose_name=_("X account"),
        db_index=False,  # conflict_unique leads with it
    )
    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    winner = models.ForeignKey(
        Link,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("winner"),
    )
    contenders = models.PositiveSmallIntegerField(_("contenders"), default=2)
    detected_at = models.DateTimeField(_("detected"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("link conflict")
        verbose_name_plural = _("link conflicts")
        constraints = [
            models.UniqueConstraint(fields=["x_account", "network"], name="conflict_unique"),
        ]

    def __str__(self) -> str:
        return f"conflict on {self.x_account_id} ({self.network})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
