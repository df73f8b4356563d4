from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServerList(models.Model):
    """The last good list of Mastodon servers for one language, as fetched from
    joinmastodon.org (`hirondelle.networks.joinmastodon`), already checked.

    Pages read it and never wait on the network; a background task refreshes
    it when older than the settings allow. A failed fetch only records when
    and why: the last good list stays.
    """

    language = models.CharField(_("language"), max_length=16, unique=True)
    servers = models.JSONField(_("servers"), default=list)
    source = models.URLField(_("source"), max_length=500, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    attempted_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Mastodon server list")
        verbose_name_plural = _("Mastodon server lists")

    def __str__(self) -> str:
        return self.language
