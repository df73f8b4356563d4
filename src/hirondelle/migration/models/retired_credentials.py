from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.evidence import NETWORK_CHOICES
from hirondelle.migration.fields import EncryptedJSONField


class RetiredCredentials(models.Model):
    """A token a network issued for this person that Hirondelle no longer uses.

    Signing in again with the same account gives Hirondelle a new token; the
    old one stays valid on the server until it is revoked. It is kept here,
    encrypted, so that "delete everything" and disconnecting revoke every
    token ever issued for the person, not only the last one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="retired_credentials",
        verbose_name=_("person"),
    )
    network = models.CharField(_("network"), max_length=16, choices=NETWORK_CHOICES)
    server = models.URLField(_("server"))
    remote_id = models.CharField(_("account id"), max_length=500)
    credentials = EncryptedJSONField(_("credentials"), null=True)
    retired_at = models.DateTimeField(_("replaced"), auto_now_add=True)

    class Meta:
        verbose_name = _("replaced credentials")
        verbose_name_plural = _("replaced credentials")
        indexes = [models.Index(fields=["user", "network", "remote_id"], name="retired_owner")]

    def __str__(self) -> str:
        return f"{self.network} token of {self.remote_id} (replaced)"
