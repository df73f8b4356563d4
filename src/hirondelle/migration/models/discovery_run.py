from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hirondelle.migration.models.migration import Migration


class DiscoveryRun(models.Model):
    """Where one migration's search of the networks stands, so it can resume.

    Named X accounts are searched in X id order; `cursor` is the last X id
    whose candidates are recorded (stored form; None: not started). Every
    answered request is in the public cache (`PublicFinding`), so a run
    killed between two accounts repeats no request when it resumes.
    `consented_at` is the person's explicit yes.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting to start")
        RUNNING = "running", _("searching")
        WAITING = "waiting", _("paused by a network's limit")
        DONE = "done", _("done")
        FAILED = "failed", _("stopped")

    migration = models.OneToOneField(
        Migration, on_delete=models.CASCADE, related_name="discovery", verbose_name=_("migration")
    )
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.QUEUED)
    consented_at = models.DateTimeField(_("consent given"))
    cursor = models.BigIntegerField(_("last X id searched"), null=True, blank=True)
    total = models.PositiveIntegerField(_("accounts to search"), default=0)
    searched = models.PositiveIntegerField(_("accounts searched"), default=0)
    requests = models.JSONField(_("requests per network"), default=dict, blank=True)
    cached = models.PositiveIntegerField(_("answers from the cache"), default=0)
    error = models.TextField(_("reason"), blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    next_at = models.DateTimeField(_("resumes at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("discovery run")
        verbose_name_plural = _("discovery runs")

    def __str__(self) -> str:
        return f"discovery of {self.migration_id}: {self.searched}/{self.total} ({self.state})"
