import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services import import_report, uploads
from hirondelle.portal.templatetags.portal import num
from hirondelle.portal.views._json import error, json_login_required
from hirondelle.portal.views._limits import rate_limited


def _texts() -> dict[str, str]:
    return {
        "reading": _("Reading the archive on this computer…"),
        "not_zip": _(
            "This file cannot be opened as a zip file. Choose the archive X sent you: a "
            "file whose name ends in .zip, as you downloaded it."
        ),
        "not_archive": _(
            "This zip is not an X archive. Choose the file X sent you: its name starts with "
            "“twitter-” and ends in .zip."
        ),
        "units": [_("B"), _("kB"), _("MB"), _("GB")],
        "send_total": _("%(n)s files, %(size)s, will be sent."),
        "keep_summary": _(
            "%(n)s files stay on this computer and are never read, "
            "%(private)s of them private (messages, contacts, devices…)."
        ),
        "sending": _("Sending your archive: %(done)s of %(total)s…"),
        "leave": _(
            "Your archive is still being sent. If you leave, come back and choose the same "
            "file: it resumes."
        ),
        "network_error": _("The connection to the site was lost."),
        "importing": _("Reading your archive on the site…"),
        "retry": _(
            "Choose the same file and press Send again: the upload resumes where it stopped."
        ),
        "imported": _("Your archive is imported."),
    }


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """The page that reads the zip in the browser and sends only what is needed."""
    recent = list(ArchiveUpload.objects.filter(user=request.user).order_by("-created_at")[:5])
    for u in recent:
        u.error_text = import_report.error_text(u.error) if u.error else ""
    last_done = next((u for u in recent if u.state == ArchiveUpload.State.DONE and u.summary), None)
    return render(
        request,
        "portal/upload.html",
        {
            "texts": _texts(),
            "chunk_bytes": uploads.CHUNK_BYTES,
            "recent": recent,
            "last_done": last_done,
        },
    )


def _progress_text(upload_obj: ArchiveUpload) -> dict | None:
    """What the import is reading, how far, and an estimate, in sentences."""
    if upload_obj.state == ArchiveUpload.State.QUEUED:
        return {"text": _("Your archive is in the queue; the import starts in a moment.")}
    if upload_obj.state != ArchiveUpload.State.IMPORTING:
        return None
    state = import_report.read_progress(upload_obj)
    if state is None:
        return {"text": _("Opening your archive…")}
    what = {
        "following": _("Reading the people you follow"),
        "followers": _("Reading the people who follow you"),
        "blocks": _("Reading the accounts you blocked"),
        "mutes": _("Reading the accounts you muted"),
        "posts": _("Reading your posts"),
    }.get(state.get("step", ""), _("Reading your archive"))
    if state.get("total"):
        text = _("%(what)s: %(done)s of %(total)s.") % {
            "what": what,
            "done": num(state["done"]),
            "total": num(state["total"]),
        }
    else:
        text = _("%(what)s: %(done)s so far.") % {"what": what, "done": num(state["done"])}
    eta = state.get("eta_seconds")
    if eta:
        minutes = max(1, round(eta / 60))
        text += " " + ngettext("About %(n)s minute left.", "About %(n)s minutes left.", minutes) % {
            "n": num(minutes)
        }
    return {
        "text": text,
        "read": state.get("read", 0),
        "total": state.get("grand_total", 0),
    }


def _status(upload_obj: ArchiveUpload) -> dict:
    return {
        "id": str(upload_obj.id),
        "state": upload_obj.state,
        "state_label": str(upload_obj.get_state_display()),
        "error": import_report.error_text(upload_obj.error) if upload_obj.error else "",
        "progress": _progress_text(upload_obj),
        "summary_html": render_to_string(
            "portal/_import_summary.html", {"summary": upload_obj.summary}
        )
        if upload_obj.state == ArchiveUpload.State.DONE and upload_obj.summary
        else "",
        "files": upload_obj.files,
        "received": uploads.received(upload_obj)
        if upload_obj.state == ArchiveUpload.State.RECEIVING
        else {},
    }


@require_POST
@json_login_required
@rate_limited("upload", json=True)
def upload_new(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return error(_("The request is not valid JSON."))
    if not isinstance(body, dict):
        return error(_("The request is not valid JSON."))
    try:
        created = uploads.declare_upload(
            request.user, body.get("files"), republish=bool(body.get("republish"))
        )
    except uploads.UploadError as e:
        return error(e.message, e.status)
    return JsonResponse(_status(created), status=201)


def _mine(request: HttpRequest, upload_id) -> ArchiveUpload:
    # Someone else's upload is "not found", never "forbidden": ids reveal nothing.
    return get_object_or_404(ArchiveUpload, pk=upload_id, user=request.user)


@require_GET
@json_login_required
def upload_status(request: HttpRequest, upload_id) -> HttpResponse:
    return JsonResponse(_status(_mine(request, upload_id)))


@require_http_methods(["GET", "POST"])
@json_login_required
def upload_file(request: HttpRequest, upload_id) -> HttpResponse:
    upload_obj = _mine(request, upload_id)
    name = request.GET.get("name", "")
    if request.method == "GET":
        if name not in upload_obj.files:
            return error(_("%(name)s was not declared for this upload.") % {"name": name}, 404)
        return JsonResponse({"offset": uploads.received(upload_obj)[name]})
    try:
        offset = int(request.GET.get("offset", ""))
    except ValueError:
        return error(_("Give the offset of this chunk."))
    try:
        result = uploads.add_chunk(upload_obj, name, offset, request.body)
    except uploads.UploadError as e:
        extra = {"offset": e.offset} if e.offset is not None else {}
        return error(e.message, e.status, **extra)
    return JsonResponse({"offset": result.offset, "complete": result.complete})


@require_POST
@json_login_required
def upload_files(request: HttpRequest, upload_id) -> HttpResponse:
    """Several small files at once (multipart, one part per archive member)."""
    upload_obj = _mine(request, upload_id)
    if not request.FILES:
        return error(_("No file in this request."))
    try:
        stored = uploads.add_whole_files(
            upload_obj, {name: part.read() for name, part in request.FILES.items()}
        )
    except uploads.UploadError as e:
        return error(e.message, e.status)
    return JsonResponse({"stored": stored})


@require_POST
@json_login_required
def upload_finish(request: HttpRequest, upload_id) -> HttpResponse:
    try:
        finished = uploads.finish_upload(_mine(request, upload_id))
    except uploads.UploadError as e:
        return error(e.message, e.status)
    return JsonResponse(_status(finished))
