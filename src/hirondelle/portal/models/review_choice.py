from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewChoice(models.Model):
    """The person's own yes or no on one match, overriding the default.

    By default, matches that may be acted on automatically are selected and
    the ones needing review are not; a row here records where the person
    decided otherwise, and survives re-imports and new directory snapshots.
    """

    migration = models.ForeignKey(
        "migration.Migration",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("migration"),
    )
    network = models.CharField(_("network"), max_length=16)
    x_account_id = models.BigIntegerField(_("X id"))
    chosen = models.BooleanField(_("selected"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("review choice")
        verbose_name_plural = _("review choices")
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "network", "x_account_id"], name="review_choice_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.x_account_id} {'yes' if self.chosen else 'no'}"
