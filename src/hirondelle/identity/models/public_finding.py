from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicFinding(models.Model):
    """One answer of a public network to one search or profile read, kept a week.

    Shared by everyone on a portal: the key is what was asked
    (``bluesky:search:alice``, ``bluesky:profile:did:plc:…``,
    ``mastodon:search:alice``), never who asked, and no column says whose
    server answered a Mastodon search. `answer` holds public profiles only
    (`PublicProfile.to_dict()`), or null for "nobody there". Doubles as the
    record of answered requests: a discovery run killed midway asks none of
    them again.
    """

    key = models.CharField(_("what was searched"), max_length=300, unique=True)
    answer = models.JSONField(_("answer"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), db_index=True)

    class Meta:
        verbose_name = _("public finding")
        verbose_name_plural = _("public findings")

    def __str__(self) -> str:
        return self.key
