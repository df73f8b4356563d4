"""Bluesky sign-in through atproto OAuth, and the client documents it needs."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from hirondelle.portal.services import bluesky_oauth as service
from hirondelle.portal.services.signin import SignInError, page_after_signin
from hirondelle.portal.views._limits import rate_limited


@require_POST
@rate_limited("signin")
def signin_bluesky_oauth(request: HttpRequest) -> HttpResponse:
    try:
        url = service.start(request, request.POST.get("handle", ""), request.POST.get("server", ""))
    except SignInError as e:
        messages.error(request, e.message)
        return redirect("portal:signin")
    return HttpResponseRedirect(url)


@require_GET
def signin_bluesky_oauth_callback(request: HttpRequest) -> HttpResponse:
    params = {k: request.GET.get(k, "") for k in ("code", "state", "iss", "error")}
    params["error_description"] = request.GET.get("error_description", "")
    try:
        account = service.finish(request, params)
    except SignInError as e:
        messages.error(request, e.message)
        return redirect("portal:signin")
    messages.success(request, _("Signed in as %(handle)s.") % {"handle": account.handle})
    return redirect(page_after_signin(request))


@require_GET
@cache_control(max_age=300, public=True)
def bluesky_oauth_client_metadata(request: HttpRequest) -> HttpResponse:
    document = service.client_metadata_document(request)
    if document is None:
        raise Http404(_("This Hirondelle has no public https address, so no OAuth client."))
    return JsonResponse(document)


@require_GET
@cache_control(max_age=300, public=True)
def bluesky_oauth_jwks(request: HttpRequest) -> HttpResponse:
    document = service.jwks_document(request)
    if document is None:
        raise Http404(_("This Hirondelle has no public https address, so no OAuth client."))
    return JsonResponse(document)
