from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models import Evidence
from hirondelle.migration.models.migration import Migration


class DiscoveryCandidate(models.Model):
    """An account that discovery found for one X account of this person's graph.

    Belongs to this person's migration only: it is never published in the
    directory (a bio anyone can write proves nothing to anyone else). What
    the archive said about the X side (`x_username`, `x_display_name`, the
    post it was seen in) is the uploader's word, kept for the review page.
    `profile` is the public profile as read (with the claim found in it);
    `chosen` is the person's own tick, None until they decide (then
    `preselected` stands).
    """

    migration = models.ForeignKey(
        Migration,
        on_delete=models.CASCADE,
        related_name="candidates",
        verbose_name=_("migration"),
        db_index=False,  # the unique constraint leads with it
    )
    x_account_id = models.BigIntegerField(_("X id"))
    x_username = models.CharField(_("X username"), max_length=64, blank=True)
    x_display_name = models.CharField(_("X display name"), max_length=200, blank=True)
    x_seen_in = models.CharField(
        _("seen in post"), max_length=32, blank=True, help_text=_("the X post that named it")
    )
    network = models.CharField(_("network"), max_length=16)
    account = models.CharField(_("account"), max_length=500, help_text=_("DID or actor URI"))
    handle = models.CharField(_("handle"), max_length=255)
    evidence = models.CharField(_("evidence"), max_length=16, choices=Evidence)
    preselected = models.BooleanField(_("preselected"), default=False)
    chosen = models.BooleanField(_("chosen"), null=True, blank=True)
    bridged_from = models.CharField(
        _("bridge of"),
        max_length=255,
        blank=True,
        help_text=_("the account on the other network that Bridgy Fed mirrors here"),
    )
    profile = models.JSONField(_("public profile"), default=dict, blank=True)
    found_at = models.DateTimeField(_("found"), auto_now_add=True)

    class Meta:
        verbose_name = _("discovery candidate")
        verbose_name_plural = _("discovery candidates")
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "x_account_id", "network", "account"],
                name="discovery_candidate_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.x_username or self.x_account_id} → {self.handle} ({self.evidence})"

    @property
    def selected(self) -> bool:
        return self.preselected if self.chosen is None else self.chosen
