"""Proving one's X account (only where the operator configured an X app)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from hirondelle.config import get_settings
from hirondelle.identity.models import x_id_from_db
from hirondelle.portal.services import x_signin as service
from hirondelle.portal.views._limits import rate_limited


def _callback_uri(request: HttpRequest) -> str:
    path = reverse("portal:x_signin_callback")
    public = get_settings().public_url.rstrip("/")
    return public + path if public else request.build_absolute_uri(path)


def _only_if_configured(view):
    """Without an X app these addresses do not exist, for anyone."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not service.is_configured():
            raise Http404(_("This portal does not offer signing in with X."))
        return view(request, *args, **kwargs)

    return wrapper


@_only_if_configured
@require_POST
@login_required
@rate_limited("signin")
def x_signin_start(request: HttpRequest) -> HttpResponse:
    """The "Prove my X account" button: off to X's authorization page."""
    try:
        url = service.start(request, _callback_uri(request))
    except service.XSignInError as e:
        messages.error(request, e.message)
        return redirect("portal:home")
    return HttpResponseRedirect(url)


@_only_if_configured
@require_GET
@login_required
def x_signin_callback(request: HttpRequest) -> HttpResponse:
    """X sends the person back here, with a code or an error."""
    try:
        proof = service.finish(
            request,
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
            error=request.GET.get("error", ""),
        )
    except service.XSignInError as e:
        messages.error(request, e.message)
        return redirect("portal:home")
    count = len(proof.linked)
    messages.success(
        request,
        ngettext(
            "X confirmed that you are @%(username)s: %(count)d new account is now linked to it "
            "with the strongest evidence. Hirondelle kept no X access.",
            "X confirmed that you are @%(username)s: %(count)d new accounts are now linked to it "
            "with the strongest evidence. Hirondelle kept no X access.",
            count,
        )
        % {"username": proof.identity.username, "count": count},
    )
    if not proof.revoked:
        messages.info(
            request,
            _(
                "X did not confirm that it took back the access it gave Hirondelle. "
                "Hirondelle did not keep it, and it ends by itself within two hours; you can "
                "also remove Hirondelle from the apps connected to your X account."
            ),
        )
    for migration in proof.mismatched:
        messages.warning(
            request,
            _(
                "The archive you sent is of another X account (@%(archive)s, id %(archive_id)s), "
                "not @%(username)s (id %(x_id)s) as X confirmed. Only @%(username)s was linked; "
                "the archive's account gets no X-confirmed link."
            )
            % {
                "archive": migration.x_username or "?",
                "archive_id": x_id_from_db(migration.x_account_id),
                "username": proof.identity.username,
                "x_id": proof.identity.id,
            },
        )
    return redirect("portal:home")
