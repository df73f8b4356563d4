from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models import DEFAULT_TRUST, Evidence, XAccount


class Migration(models.Model):
    """One person leaving one X account: what their archive said, imported.

    Re-importing an archive of the same X account updates this row (and bumps
    `generation`); graph edges, posts and lists the newer archive no longer
    lists are marked gone, not deleted.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="migrations",
        verbose_name=_("owner"),
        db_index=False,  # migration_unique_owner_x leads with it
    )
    x_account = models.ForeignKey(
        XAccount, on_delete=models.PROTECT, related_name="migrations", verbose_name=_("X account")
    )
    #: The person's own username and display name, as their archive says: for
    #: their own pages only. The directory's `XAccount` row never takes them
    #: (an archive can be forged; see `ArchiveName`).
    x_username = models.CharField(_("X username"), max_length=50, blank=True)
    x_display_name = models.CharField(_("display name"), max_length=100, blank=True)
    profile = models.JSONField(_("profile"), default=dict, blank=True)
    archive_path = models.CharField(
        _("archive"),
        max_length=1000,
        blank=True,
        help_text=_("where the archive was read from (media are read from it later)"),
    )
    archive_generated_at = models.DateTimeField(
        _("archive made on"),
        null=True,
        blank=True,
        help_text=_("from the archive's manifest: an older archive never overwrites a newer one"),
    )
    generation = models.PositiveIntegerField(
        _("imports"), default=0, help_text=_("bumped at each import of an archive")
    )
    trust_threshold = models.CharField(
        _("trust threshold"),
        max_length=16,
        choices=Evidence,
        default=DEFAULT_TRUST,
        help_text=_("links with weaker evidence are proposed for review, never acted on alone"),
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    imported_at = models.DateTimeField(_("last imported"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("migration")
        verbose_name_plural = _("migrations")
        constraints = [
            models.UniqueConstraint(fields=["owner", "x_account"], name="migration_unique_owner_x"),
        ]

    def __str__(self) -> str:
        return f"migration of @{self.x_username or self.x_account_id} by {self.owner}"
