from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES
from hirondelle.migration.fields import EncryptedJSONField


class ConnectedAccount(models.Model):
    """One of the person's own new accounts, which Hirondelle acts on.

    Holds the credentials (encrypted), the live rate budget (so a restarted
    run does not spend a window twice) and a lease: only the worker holding
    the lease advances this account's plan, so budgets are never overspent by
    two workers at once.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        AUTH_EXPIRED = "auth_expired", _("sign-in expired")
        REVOKED = "revoked", _("revoked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="connected_accounts",
        verbose_name=_("person"),
    )
    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    server = models.URLField(_("server"), help_text=_("Mastodon server or Bluesky PDS URL."))
    handle = models.CharField(_("handle"), max_length=255)
    remote_id = models.CharField(
        _("account id"), max_length=500, help_text=_("Actor URI (Mastodon) or DID (Bluesky).")
    )
    credentials = EncryptedJSONField(_("credentials"), null=True)
    budget = models.JSONField(_("rate budget"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    wake_at = models.DateTimeField(
        _("next run"), null=True, blank=True, help_text=_("When background work resumes.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("connected account")
        verbose_name_plural = _("connected accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "network", "remote_id"], name="connected_account_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"
