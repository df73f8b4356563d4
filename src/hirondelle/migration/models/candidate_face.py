from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.migration.models.migration import Migration


class CandidateFace(models.Model):
    """The avatar of an account that discovery proposed to one person, re-encoded
    here (a small WebP square) and served only to them from our own origin.

    Owned by the person's migration, not the shared directory: a picture kept
    in shared tables would leave a trace of this person's search after they
    delete their account; here it goes with the migration (cascade). One row
    per account, whatever the number of X accounts it was proposed for.
    `wanted_at`, `claim` and `claimed_until` let background workers take rows
    batch by batch, never the same one twice at once.
    """

    class State(models.TextChoices):
        WANTED = "", _("not read yet")
        STORED = "stored", _("stored")
        NONE = "none", _("no avatar")
        FAILED = "failed", _("could not be read")

    migration = models.ForeignKey(
        Migration,
        on_delete=models.CASCADE,
        related_name="candidate_faces",
        verbose_name=_("migration"),
        db_index=False,  # the unique constraint leads with it
    )
    network = models.CharField(_("network"), max_length=16)
    account = models.CharField(_("account"), max_length=500, help_text=_("DID or actor URI"))
    source_url = models.CharField(_("read from"), max_length=2000, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State, blank=True, default="")
    digest = models.CharField(_("digest"), max_length=16, blank=True, default="")
    image = models.BinaryField(_("image"), null=True, blank=True)
    wanted_at = models.DateTimeField(_("wanted"), null=True, blank=True, db_index=True)
    claim = models.CharField(_("claim"), max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposed account's avatar")
        verbose_name_plural = _("proposed accounts' avatars")
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "network", "account"], name="candidate_face_unique"
            )
        ]

    def __str__(self) -> str:
        return f"avatar of {self.network}:{self.account} for migration {self.migration_id}"
