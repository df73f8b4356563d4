from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SharedBudget(models.Model):
    """A rate budget shared by everyone on this portal (e.g. Bluesky's public API,
    counted per address): `Budget.to_dict()` state, restored by every worker."""

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    state = models.JSONField(_("state"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("shared rate budget")
        verbose_name_plural = _("shared rate budgets")

    def __str__(self) -> str:
        return self.name
