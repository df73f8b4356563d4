"""The directory in Django's admin: moderation, rosters, conflicts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from hirondelle.identity.models import (
    Consent,
    ImpersonationReport,
    Link,
    LinkConflict,
    NetworkAccount,
    PublisherKey,
    RosterImport,
    User,
    XAccount,
    x_id_from_db,
)
from hirondelle.identity.services import reports
from hirondelle.identity.services.directory import reject_link, resolve_conflict, settle
from hirondelle.identity.services.errors import InvalidLink, RosterError
from hirondelle.identity.services.roster import import_roster

admin.site.register(User, UserAdmin)


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin):
    list_display = ("id", "username", "display_name", "updated_at")
    search_fields = ("=id", "username", "display_name")


@admin.register(NetworkAccount)
class NetworkAccountAdmin(admin.ModelAdmin):
    list_display = ("handle", "network", "uri", "display_name", "avatar_state", "updated_at")
    list_filter = ("network", "avatar_state")
    search_fields = ("handle", "=uri")
    #: read from the network in the background (migration.services.faces)
    readonly_fields = (
        "display_name",
        "avatar_url",
        "avatar_state",
        "avatar_digest",
        "profile_fetched_at",
        "profile_wanted_at",
        "profile_claim",
        "profile_claimed_until",
    )


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = (
        "x_account",
        "findable",
        "auto_followable",
        "auto_follow_arrivals",
        "source",
        "updated_at",
    )
    list_filter = ("findable", "auto_followable", "auto_follow_arrivals", "source")
    search_fields = ("=x_account__id", "x_account__username")
    raw_id_fields = ("x_account", "given_by")


@admin.register(PublisherKey)
class PublisherKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "public_key", "trusted", "added_at")
    list_filter = ("trusted",)
    search_fields = ("name", "public_key")


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = (
        "x_account",
        "network",
        "network_account",
        "evidence",
        "state",
        "asserted_by",
        "asserted_at",
        "publisher",
    )
    list_filter = ("network", "evidence", "state", "publisher")
    search_fields = (
        "=x_account__id",
        "x_account__username",
        "network_account__handle",
        "asserted_by",
    )
    raw_id_fields = ("x_account", "network_account", "created_by")
    readonly_fields = ("strength", "state", "updated_at")
    date_hierarchy = "asserted_at"
    actions = ("prefer_links", "reject_links")

    @admin.action(description=_("Prefer these links (reject their rivals, close the conflict)"))
    def prefer_links(self, request: HttpRequest, queryset: QuerySet[Link]) -> None:
        done = 0
        for link in queryset:
            conflict = LinkConflict.objects.filter(
                x_account_id=link.x_account_id, network=link.network
            ).first()
            if conflict is None:  # no rival: only undo a rejection
                Link.objects.filter(pk=link.pk).update(state=Link.State.CURRENT)
                settle([link.x_account_id])
            else:
                resolve_conflict(conflict, keep=link, by=request.user)
            self.log_change(request, link, gettext("Preferred (rivals rejected)."))
            done += 1
        self.message_user(
            request, ngettext("%d link preferred.", "%d links preferred.", done) % done
        )

    @admin.action(description=_("Reject these links (never matched again)"))
    def reject_links(self, request: HttpRequest, queryset: QuerySet[Link]) -> None:
        links = list(queryset)
        for link in links:
            reject_link(link)
            self.log_change(request, link, gettext("Rejected: never matched again."))
        self.message_user(
            request, ngettext("%d link rejected.", "%d links rejected.", len(links)) % len(links)
        )


@admin.register(LinkConflict)
class LinkConflictAdmin(admin.ModelAdmin):
    list_display = (
        "x_account",
        "network",
        "contenders",
        "winner",
        "detected_at",
        "resolved_at",
        "resolved_by",
    )
    list_filter = ("network", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("=x_account__id", "x_account__username")
    readonly_fields = (
        "x_account",
        "network",
        "winner",
        "contenders",
        "claims",
        "detected_at",
        "updated_at",
    )
    actions = ("keep_strongest",)

    @admin.display(description=_("claims"))
    def claims(self, conflict: LinkConflict) -> str:
        links = Link.objects.filter(
            x_account_id=conflict.x_account_id, network=conflict.network
        ).select_related("network_account")
        return format_html_join(
            mark_safe("<br>"),
            "{} — {} ({}, {})",
            (
                (link.network_account.handle, link.evidence, link.state, link.asserted_by)
                for link in links.order_by("-strength")
            ),
        )

    @admin.action(description=_("Resolve: keep the strongest link, reject the others"))
    def keep_strongest(self, request: HttpRequest, queryset: QuerySet[LinkConflict]) -> None:
        resolved = tied = 0
        for conflict in queryset.select_related("winner"):
            try:
                resolve_conflict(conflict, by=request.user)
                self.log_change(request, conflict, gettext("Resolved: strongest link kept."))
                resolved += 1
            except InvalidLink:
                tied += 1
        self.message_user(
            request,
            ngettext("%d conflict resolved.", "%d conflicts resolved.", resolved) % resolved,
        )
        if tied:
            self.message_user(
                request,
                ngettext(
                    "%d conflict is a tie: open its links and prefer one.",
                    "%d conflicts are ties: open their links and prefer one.",
                    tied,
                )
                % tied,
                level=messages.WARNING,
            )


@admin.register(ImpersonationReport)
class ImpersonationReportAdmin(admin.ModelAdmin):
    """Reports of impersonation, proven reporters first; upheld or dismissed by an action.

    Django's admin logs additions, changes and deletions made through its
    forms, but not custom actions: each action here writes its own LogEntry
    (on the report, and on the rejected link), so the audit log shows it.
    """

    list_display = (
        "created_at",
        "reported_account",
        "x_id_shown",
        "reason",
        "reporter_proved_x",
        "state",
        "link_state",
        "resolved_by",
    )
    list_filter = ("state", "reason", "reporter_proved_x", "network")
    search_fields = ("handle", "=x_id", "text")
    ordering = ("-reporter_proved_x", "-created_at")
    readonly_fields = (
        "link",
        "x_id_shown",
        "network",
        "handle",
        "account_uri",
        "reporter",
        "reporter_proved_x",
        "reason",
        "text",
        "state",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    exclude = ("x_id",)
    list_select_related = ("link", "resolved_by")
    actions = ("uphold_reports", "dismiss_reports")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the moderation trail stays

    @admin.display(description=_("reported account"), ordering="handle")
    def reported_account(self, report: ImpersonationReport) -> str:
        return f"{report.network}:{report.handle}"

    @admin.display(description=_("X id"), ordering="x_id")
    def x_id_shown(self, report: ImpersonationReport) -> int:
        return x_id_from_db(report.x_id)

    @admin.display(description=_("link state"))
    def link_state(self, report: ImpersonationReport) -> str:
        return report.link.get_state_display() if report.link else gettext("deleted")

    @admin.action(
        description=_("Uphold (reject the link, cancel the follows not yet made)"),
        permissions=["change"],
    )
    def uphold_reports(self, request: HttpRequest, queryset: QuerySet[ImpersonationReport]) -> None:
        upheld = skipped = done = 0
        for report in queryset.filter(state=ImpersonationReport.State.OPEN):
            try:
                result = reports.uphold(report, request.user)
            except reports.ReportError:
                continue  # closed meanwhile, together with another report of the same link
            upheld += len(result.reports)
            skipped += result.follows_skipped
            done += result.follows_done
            for closed in ImpersonationReport.objects.filter(pk__in=result.reports):
                self.log_change(
                    request,
                    closed,
                    gettext("Upheld: link rejected, %(n)d pending follows cancelled.")
                    % {"n": result.follows_skipped},
                )
            report.refresh_from_db()
            if report.link is not None:
                self.log_change(
                    request,
                    report.link,
                    gettext("Rejected after impersonation report %(id)d.") % {"id": report.pk},
                )
        self.message_user(
            request,
            ngettext("%(n)d report upheld.", "%(n)d reports upheld.", upheld) % {"n": upheld}
            + " "
            + ngettext(
                "%(n)d pending follow cancelled.", "%(n)d pending follows cancelled.", skipped
            )
            % {"n": skipped},
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d follow was already made and cannot be undone from here.",
                    "%(n)d follows were already made and cannot be undone from here.",
                    done,
                )
                % {"n": done},
                level=messages.WARNING,
            )

    @admin.action(description=_("Dismiss (keep the link)"), permissions=["change"])
    def dismiss_reports(
        self, request: HttpRequest, queryset: QuerySet[ImpersonationReport]
    ) -> None:
        dismissed = 0
        for report in queryset.filter(state=ImpersonationReport.State.OPEN):
            try:
                report = reports.dismiss(report, request.user)
            except reports.ReportError:
                continue
            dismissed += 1
            self.log_change(request, report, gettext("Dismissed: the link stays."))
        self.message_user(
            request,
            ngettext("%(n)d report dismissed.", "%(n)d reports dismissed.", dismissed)
            % {"n": dismissed},
        )


#: the largest roster accepted from the admin (a roster names accounts, not posts)
ROSTER_MAX_BYTES = 20 * 1024 * 1024


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: x_id (or x_username already known here), and fediverse and/or bluesky; "
            "optionally fediverse_id and bluesky_did. UTF-8, comma, semicolon or tab."
        ),
    )
    institution = forms.CharField(
        label=_("institution"),
        max_length=200,
        help_text=_("Who publishes these accounts; shown as the source of every link."),
    )
    auto_followable = forms.BooleanField(
        label=_("These accounts may be followed automatically"),
        required=False,
        help_text=_("Only if the institution agreed; otherwise people confirm each follow."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ROSTER_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB: split the roster into several files."),
                params={"mb": ROSTER_MAX_BYTES // (1024 * 1024)},
                code="too_big",
            )
        return upload


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    """Rosters imported from the admin; "Add" is the upload form (all or nothing)."""

    list_display = (
        "imported_at",
        "institution",
        "file_name",
        "accounts",
        "added",
        "strengthened",
        "skipped",
        "auto_followable",
        "imported_by",
    )
    list_filter = ("auto_followable",)
    search_fields = ("institution", "file_name")
    date_hierarchy = "imported_at"

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [f.name for f in RosterImport._meta.fields]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record of what was published stays

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        """Upload a roster CSV; the whole file is imported, or nothing with every problem listed."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RosterUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            record = self._import(request, form)
            if record is not None:
                return HttpResponseRedirect(reverse("admin:identity_rosterimport_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import a roster"),
            "opts": self.model._meta,
            "form": form,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/identity/rosterimport/upload.html", context)

    def _import(self, request: HttpRequest, form: RosterUploadForm) -> RosterImport | None:
        upload = form.cleaned_data["file"]
        name = Path(upload.name or "roster.csv").name[:255]
        institution = form.cleaned_data["institution"].strip()
        with tempfile.TemporaryDirectory(prefix="hirondelle-roster-") as folder:
            path = Path(folder) / "roster.csv"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                with transaction.atomic():
                    result = import_roster(
                        path,
                        institution=institution,
                        auto_followable=form.cleaned_data["auto_followable"],
                    )
                    record = RosterImport.objects.create(
                        institution=result.institution,
                        file_name=name,
                        accounts=result.accounts,
                        added=result.stats.created,
                        strengthened=result.stats.strengthened,
                        skipped=result.stats.unchanged,
                        waiting="\n".join(result.waiting),
                        auto_followable=form.cleaned_data["auto_followable"],
                        imported_by=request.user,
                    )
                    self.log_addition(
                        request,
                        record,
                        gettext("Imported %(n)d accounts from %(file)s.")
                        % {"n": result.accounts, "file": name},
                    )
            except RosterError as exc:
                lines = [line.strip() for line in str(exc).replace(str(path), name).splitlines()]
                form.add_error(
                    "file",
                    [gettext("Nothing was imported.")] + [line for line in lines if line],
                )
                return None
        self.message_user(
            request,
            gettext(
                "Roster of %(institution)s imported: %(accounts)d accounts, %(added)d links "
                "added, %(strengthened)d strengthened, %(skipped)d already known."
            )
            % {
                "institution": record.institution,
                "accounts": record.accounts,
                "added": record.added,
                "strengthened": record.strengthened,
                "skipped": record.skipped,
            },
        )
        if result.waiting:
            shown = ", ".join(result.waiting[:10]) + (" …" if len(result.waiting) > 10 else "")
            self.message_user(
                request,
                gettext(
                    "%(n)d lines wait for an X id (%(lines)s): they name an X username that "
                    "neither this roster, an earlier roster of %(institution)s nor X itself "
                    "ties to an X id. An X archive's word is not enough. Add their x_id column "
                    "and import the file again."
                )
                % {"n": len(result.waiting), "lines": shown, "institution": record.institution},
                level=messages.WARNING,
            )
        return record
