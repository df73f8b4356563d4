from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ArchiveUpload(models.Model):
    """One browser upload of the archive files a migration needs.

    The browser declares every file (name and size) before sending any byte,
    so the server validates the whole list once; each file then arrives in
    chunks appended at an offset, which makes a broken upload resumable. Once
    every declared file is complete, an import task reads the folder in a
    worker: the web request never does the heavy work.
    """

    class State(models.TextChoices):
        RECEIVING = "receiving", _("receiving files")
        QUEUED = "queued", _("waiting for a worker")
        IMPORTING = "importing", _("importing")
        DONE = "done", _("imported")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="archive_uploads",
        verbose_name=_("person"),
    )
    files = models.JSONField(
        _("declared files"), default=dict, help_text=_("archive member name → size in bytes")
    )
    declared_bytes = models.BigIntegerField(
        _("declared size"),
        default=0,
        help_text=_("all declared files together: what counts against the daily upload limits"),
    )
    republish = models.BooleanField(
        _("posts included"), default=False, help_text=_("posts and their media were sent")
    )
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.RECEIVING)
    error = models.TextField(_("error"), blank=True)
    migration = models.ForeignKey(
        "migration.Migration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("migration"),
    )
    summary = models.JSONField(
        _("summary"),
        default=dict,
        blank=True,
        help_text=_("what the import found: counts, and parts the archive lacks"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("archive upload")
        verbose_name_plural = _("archive uploads")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="upload_user_recent"),
            models.Index(fields=["created_at"], name="upload_recent"),
        ]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.state})"

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())
