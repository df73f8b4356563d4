from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublisherKey(models.Model):
    """An Ed25519 public key whose directory snapshots this installation accepts.

    Only keys the person chose to trust are stored; a snapshot signed by any
    other key is refused.
    """

    name = models.CharField(_("publisher"), max_length=200, unique=True)
    public_key = models.CharField(
        _("public key"), max_length=64, unique=True, help_text=_("raw Ed25519 key, base64")
    )
    trusted = models.BooleanField(_("trusted"), default=True)
    note = models.TextField(_("note"), blank=True)
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("publisher key")
        verbose_name_plural = _("publisher keys")

    def __str__(self) -> str:
        return self.name
