from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.archive.records import ListKind
from hirondelle.migration.models.migration import Migration


class ImportedList(models.Model):
    """An X list the person created, belongs to, or subscribed to.

    The archive gives only each list's URL (not its members): enough to
    recreate a list by name or show it to the person.
    """

    migration = models.ForeignKey(
        Migration,
        on_delete=models.CASCADE,
        related_name="lists",
        verbose_name=_("migration"),
        db_index=False,  # list_unique leads with it
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=[(k.value, k.value) for k in ListKind]
    )
    url = models.CharField(_("URL"), max_length=500)
    generation = models.PositiveIntegerField(_("last seen in import"))
    gone_at = models.DateTimeField(_("gone"), null=True, blank=True)

    class Meta:
        verbose_name = _("imported list")
        verbose_name_plural = _("imported lists")
        constraints = [
            models.UniqueConstraint(fields=["migration", "kind", "url"], name="list_unique"),
        ]

    def __str__(self) -> str:
        return self.url
