from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models.network_account import NetworkAccount


class AccountAvatar(models.Model):
    """A directory account's avatar, re-encoded here (a small WebP square) and
    served from our own origin, so no visitor's browser ever asks a remote
    server for it.

    Stored in the database rather than the data directory: a portal runs its
    web and worker processes on several machines that share the database and
    nothing else, the pictures are a few kilobytes each, and deleting the
    account deletes its avatar in the same transaction (cascade), on SQLite
    and PostgreSQL alike. The account's `avatar_digest` names the bytes in the URL, so browsers
    may cache a URL forever and a new picture gets a new URL.
    """

    account = models.OneToOneField(
        NetworkAccount,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="avatar",
        verbose_name=_("network account"),
    )
    image = models.BinaryField(_("image"))
    source_url = models.CharField(_("read from"), max_length=2000)
    fetched_at = models.DateTimeField(_("read"))

    class Meta:
        verbose_name = _("avatar")
        verbose_name_plural = _("avatars")

    def __str__(self) -> str:
        return f"avatar of {self.account_id}"
