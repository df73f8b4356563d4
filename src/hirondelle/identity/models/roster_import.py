from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RosterImport(models.Model):
    """One institutional roster imported from the admin: the audit trail of who
    published which accounts, when, and what it changed."""

    institution = models.CharField(_("institution"), max_length=200)
    file_name = models.CharField(_("file"), max_length=255)
    accounts = models.PositiveIntegerField(_("accounts"), help_text=_("rows of the file"))
    added = models.PositiveIntegerField(_("links added"))
    strengthened = models.PositiveIntegerField(_("links strengthened"))
    skipped = models.PositiveIntegerField(_("links already known"))
    waiting = models.TextField(
        _("lines waiting for an X id"),
        blank=True,
        help_text=_("named by an X username that no trusted source resolves; one per line"),
    )
    auto_followable = models.BooleanField(_("may be followed automatically"), default=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.institution}: {self.file_name}"
