"""A person who asked to follow a whole roster: queued once, carried by the plan machinery."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RosterFollow(models.Model):
    institution = models.ForeignKey("institutions.Institution", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    network = models.CharField(max_length=20)
    queued = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "user", "network"], name="one_roster_follow"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.institution_id} on {self.network}"
