from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from hirondelle.migration.models.migration import Migration


class ArchiveName(models.Model):
    """What this person's archive calls one X account of their graph.

    The graph files give bare X ids; the person's posts (mentions, replies,
    notes, community posts) name many of them. One row per X id of the
    graph that the posts name, with the most recent username and display
    name seen and the post it was seen in. Replaced at each import.

    These names are only the uploader's word (an archive can be forged): they
    serve this migration's own pages and searches, never overwrite the
    directory's `identity.XAccount` and are never shared.
    """

    migration = models.ForeignKey(
        Migration,
        on_delete=models.CASCADE,
        related_name="archive_names",
        verbose_name=_("migration"),
        db_index=False,  # archive_name_unique leads with it
    )
    x_account_id = models.BigIntegerField(_("X id"))
    username = models.CharField(_("X username"), max_length=20)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    seen_at = models.DateTimeField(_("seen on"), help_text=_("date of the post it was seen in"))
    post_id = models.CharField(_("seen in post"), max_length=32, blank=True)
    source = models.CharField(
        _("seen as"), max_length=16, help_text=_("mention, reply, note, community, quote, retweet")
    )

    class Meta:
        verbose_name = _("name from the archive")
        verbose_name_plural = _("names from the archive")
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "x_account_id"], name="archive_name_unique"
            ),
        ]
        indexes = [
            models.Index(
                "migration",
                Lower("username"),
                name="archive_name_username",
            )
        ]

    def __str__(self) -> str:
        return f"{self.migration_id} {self.x_account_id} @{self.username}"
