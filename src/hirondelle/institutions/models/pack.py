"""Starter packs (one per group, at most 150 people each) and the curated list of everyone."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Pack(models.Model):
    class Kind(models.TextChoices):
        STARTER = "starter", _("starter pack")
        CURATED = "curated", _("list of everyone")

    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.CASCADE, related_name="packs"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    group = models.CharField(max_length=100, blank=True)
    part = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=200)
    list_rkey = models.CharField(max_length=20)
    pack_rkey = models.CharField(max_length=20, blank=True)
    written = models.BooleanField(default=False)
    #: members the AppView lists (None: not read back yet)
    appview_members = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("starter pack")
        verbose_name_plural = _("starter packs")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "kind", "group", "part"], name="one_pack_per_part"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PackMember(models.Model):
    pack = models.ForeignKey(Pack, on_delete=models.CASCADE, related_name="members")
    official = models.ForeignKey("institutions.Official", on_delete=models.CASCADE)
    rkey = models.CharField(max_length=20)
    written = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pack", "official"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.pack_id}/{self.official_id}"
