"""Operators' views: uploads, and the audit log of every admin action.

Django records each change made in the admin as a `LogEntry`; here it is
listed read-only, so nobody can edit or erase the trail from the admin.
"""

from django.contrib import admin
from django.contrib.admin.models import LogEntry

from hirondelle.portal.models import ArchiveUpload, ArrivalNotice


@admin.register(LogEntry)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "change_message", "user__username")
    date_hierarchy = "action_time"
    readonly_fields = [f.name for f in LogEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArchiveUpload)
class ArchiveUploadAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "state", "republish", "created_at")
    list_filter = ("state", "republish")
    search_fields = ("user__username",)
    readonly_fields = ("id", "user", "files", "republish", "migration", "created_at", "updated_at")


@admin.register(ArrivalNotice)
class ArrivalNoticeAdmin(admin.ModelAdmin):
    """Read-only: a notice's state moves only through the sender, so nothing
    here can make one go out twice."""

    list_display = ("id", "user", "state", "due_at", "sent_at", "attempts", "sender")
    list_filter = ("state",)
    search_fields = ("user__username", "sender")
    readonly_fields = [f.name for f in ArrivalNotice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
