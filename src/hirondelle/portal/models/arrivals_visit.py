from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ArrivalsVisit(models.Model):
    """When the person last opened the "Later arrivals" page: arrivals after it
    are "new since your last visit". Per person, so a newer archive sent
    since (a re-import of the migration) changes nothing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("person"),
    )
    seen_at = models.DateTimeField(_("last visit"))

    class Meta:
        verbose_name = _("visit of the later arrivals page")
        verbose_name_plural = _("visits of the later arrivals page")

    def __str__(self) -> str:
        return f"arrivals seen at {self.seen_at:%Y-%m-%d %H:%M}"
