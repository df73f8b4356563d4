import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services import uploads
from hirondelle.portal.views._json import error, json_login_required
from hirondelle.portal.views._limits import rate_limited


def _texts() -> dict[str, str]:
    return {
        "reading": _("Reading the archive on this computer…"),
        "not_zip": _("This file cannot be read as a zip archive."),
        "not_archive": _(
            "This zip is not an X archive: it has no account.js. Choose the file X sent you."
        ),
        "send_total": _("%(n)s files, %(size)s, will be sent."),
        "keep_summary": _(
            "%(n)s files stay on this computer and are never read, "
            "%(private)s of them private (messages, contacts, devices…)."
        ),
        "sending": _("Sending %(name)s…"),
        "network_error": _("The connection to the site was lost."),
        "retry": _(
            "Choose the same file and press Send again: the upload resumes where it stopped."
        ),
        "imported": _("Your archive is imported."),
    }


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """The page that reads the zip in the browser and sends only what is needed."""
    recent = ArchiveUpload.objects.filter(user=request.user).order_by("-created_at")[:5]
    return render(
        request,
        "portal/upload.html",
        {"texts": _texts(), "chunk_bytes": uploads.CHUNK_BYTES, "recent": recent},
    )


def _status(upload_obj: ArchiveUpload) -> dict:
    return {
        "id": str(upload_obj.id),
        "state": upload_obj.state,
        "state_label": str(upload_obj.get_state_display()),
        "error": upload_obj.error,
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
