from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hirondelle.config import get_settings
from hirondelle.portal.services import signin as service
from hirondelle.portal.views._limits import rate_limited


def _callback_uri(request: HttpRequest) -> str:
    path = reverse("portal:signin_mastodon_callback")
    public = get_settings().public_url.rstrip("/")
    return public + path if public else request.build_absolute_uri(path)


def signin(request: HttpRequest) -> HttpResponse:
    """Sign in with a Mastodon server, or a Bluesky handle and app password."""
    from hirondelle.portal.services.bluesky_oauth import offer
    from hirondelle.portal.services.servers import list_origin, request_refresh, suggested_servers

    service.remember_next(request, request.GET.get("next", ""))
    language = get_language() or "fr"
    request_refresh(language)  # queued for a worker: the page never waits
    origin = list_origin(language)
    return render(
        request,
        "portal/signin.html",
        {
            "bluesky_oauth": offer(),
            "servers": suggested_servers(language),
            "servers_checked": origin.checked,
            "servers_source": origin.source,
            "servers_fetched": origin.fetched,
            "own_list": bool(get_settings().recommended_servers),
        },
    )


@require_POST
@rate_limited("signin")
def signin_mastodon(request: HttpRequest) -> HttpResponse:
    try:
        url = service.start_mastodon(
            request, request.POST.get("server", ""), _callback_uri(request)
        )
    except service.SignInError as e:
        messages.error(request, e.message)
        return redirect("portal:signin")
    return HttpResponseRedirect(url)


@require_GET
def signin_mastodon_callback(request: HttpRequest) -> HttpResponse:
    if request.GET.get("error"):
        messages.error(request, _("Your server did not give access. Nothing was changed."))
        return redirect("portal:signin")
    try:
        account = service.finish_mastodon(
            request, request.GET.get("code", ""), request.GET.get("state", "")
        )
    except service.SignInError as e:
        messages.error(request, e.message)
        return redirect("portal:signin")
    messages.success(request, _("Signed in as %(handle)s.") % {"handle": account.handle})
    return redirect(service.page_after_signin(request))


@require_POST
@rate_limited("signin")
def signin_bluesky(request: HttpRequest) -> HttpResponse:
    try:
        account = service.sign_in_bluesky(
            request,
            request.POST.get("handle", ""),
            request.POST.get("app_password", ""),
            request.POST.get("server", ""),
        )
    except service.SignInError as e:
        messages.error(request, e.message)
        return redirect("portal:signin")
    messages.success(request, _("Signed in as %(handle)s.") % {"handle": account.handle})
    return redirect(service.page_after_signin(request))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:home")
