from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.migration.models.connected_account import ConnectedAccount
from hirondelle.migration.models.imported_list import ImportedList


class ListRebuild(models.Model):
    """One X list the person created, rebuilt on one of their new accounts.

    The archive has the list's address only, so the person names it and
    chooses its members; each member is a `list_add` plan item pointing here
    (`payload["rebuild"]`). The list itself is created lazily by the runner
    when the first member is added, and `remote_list_id` is kept so it is
    created once: the Bluesky record key derives from `key`, and Mastodon
    reuses a list with the same title.
    """

    imported_list = models.ForeignKey(
        ImportedList,
        on_delete=models.CASCADE,
        related_name="rebuilds",
        verbose_name=_("X list"),
    )
    account = models.ForeignKey(
        ConnectedAccount,
        on_delete=models.CASCADE,
        related_name="list_rebuilds",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=64)
    key = models.CharField(max_length=64, unique=True, editable=False)
    remote_list_id = models.CharField(
        _("list on the network"),
        max_length=500,
        blank=True,
        help_text=_("Mastodon list id or Bluesky at:// URI, once created."),
    )
    list_created_at = models.DateTimeField(_("created on the network"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rebuilt list")
        verbose_name_plural = _("rebuilt lists")
        constraints = [
            models.UniqueConstraint(
                fields=["imported_list", "account"], name="list_rebuild_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.account}"
