from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.networks.base import ActionKind


class PlanItemQuerySet(models.QuerySet):
    def due(self, now):
        """Items a worker may take now: pending and due, or abandoned in flight."""
        return self.filter(
            models.Q(state=PlanItem.State.PENDING, next_attempt_at__lte=now)
            | models.Q(state=PlanItem.State.IN_FLIGHT, locked_until__lt=now)
        )

    def open(self):
        return self.filter(state__in=[PlanItem.State.PENDING, PlanItem.State.IN_FLIGHT])


class PlanItem(models.Model):
    """One thing to do on one of the person's accounts: follow, block, mute,
    add to a list, or publish one post (chunk).

    The row carries its own state, so the queue only has to say "advance this
    account now". `key` is unique: planning the same thing twice is a no-op,
    and adapters use it as the network-side idempotency key.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        IN_FLIGHT = "in_flight", _("in flight")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    class Origin(models.TextChoices):
        ARCHIVE = "archive", _("from the X archive")
        FOLLOW_BACK = "follow_back", _("follows me on X")
        ARRIVAL = "arrival", _("arrived later")

    account = models.ForeignKey(
        "migration.ConnectedAccount", on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=[(k.value, k.value) for k in ActionKind]
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.ARCHIVE)
    x_id = models.CharField(_("X id"), max_length=32, help_text=_("X account id, or X post id."))
    target_id = models.CharField(max_length=500, blank=True)  # actor URI or DID
    target_handle = models.CharField(max_length=255, blank=True)
    list_name = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)  # publishing order (posts)
    payload = models.JSONField(default=dict, blank=True)  # the prepared post, for posts
    key = models.CharField(max_length=64, unique=True)

    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=500, blank=True)  # record URI, status id…
    remote_cid = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = PlanItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        indexes = [
            models.Index(
                fields=["account", "state", "kind", "next_attempt_at"], name="plan_item_due"
            ),
            models.Index(fields=["account", "kind", "x_id"], name="plan_item_x"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_handle or self.x_id} [{self.state}]"
