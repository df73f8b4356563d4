from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES


class NetworkAccount(models.Model):
    """An account on Mastodon/the fediverse (``user@host`` + actor URI) or Bluesky (handle + DID).

    `uri` may be empty while only the handle is known (an institutional
    roster names addresses, not actor URIs); it is filled in once resolved.
    """

    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    handle = models.CharField(
        _("handle"), max_length=255, help_text=_("user@host, or a Bluesky handle; no leading @")
    )
    uri = models.CharField(
        _("id"), max_length=500, blank=True, help_text=_("ActivityPub actor URI or Bluesky DID")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("network account")
        verbose_name_plural = _("network accounts")
        constraints = [
            models.UniqueConstraint(fields=["network", "handle"], name="netaccount_unique_handle"),
            models.UniqueConstraint(
                fields=["network", "uri"], condition=~Q(uri=""), name="netaccount_unique_uri"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.handle}"
