from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.migration.fields import EncryptedJSONField


class MastodonApp(models.Model):
    """This portal's registration on one Mastodon-API server.

    Registered on the fly the first time someone from that server signs in,
    then reused: servers limit how often an address may register apps.
    """

    server = models.URLField(_("server"))
    redirect_uri = models.URLField(_("redirect URI"), max_length=500)
    client_id = models.CharField(_("client id"), max_length=255)
    secret = EncryptedJSONField(_("client secret"), null=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        verbose_name = _("Mastodon app registration")
        verbose_name_plural = _("Mastodon app registrations")
        constraints = [
            models.UniqueConstraint(fields=["server", "redirect_uri"], name="mastodon_app_unique")
        ]

    def __str__(self) -> str:
        return self.server
