from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from hirondelle.identity.models import AccountAvatar
from hirondelle.migration.models import CandidateFace

#: the URL names the picture's bytes (its digest): it never changes meaning
CACHE = "public, max-age=31536000, immutable"


@require_safe
def avatar(request: HttpRequest, account_id: int, digest: str) -> HttpResponse:
    """A directory account's avatar, re-encoded and served from this site, so
    no visitor's browser asks another server for it (and tells it who looks)."""
    image = (
        AccountAvatar.objects.filter(account_id=account_id, account__avatar_digest=digest)
        .values_list("image", flat=True)
        .first()
    )
    if image is None:
        raise Http404("No such avatar.")
    response = _picture(bytes(image))
    response["Cache-Control"] = CACHE
    return response


def _picture(image: bytes) -> HttpResponse:
    """A stored WebP with the headers every avatar gets."""
    response = HttpResponse(image, content_type="image/webp")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # A picture needs nothing: even opened on its own, it may run or load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


#: a proposal's picture is one person's: no shared cache may keep it
PRIVATE_CACHE = "private, max-age=31536000, immutable"


@require_safe
def proposal_avatar(request: HttpRequest, face_id: int, digest: str) -> HttpResponse:
    """The avatar of an account discovery proposed, served only to the person
    whose migration it belongs to (anyone else, signed in or not: 404)."""
    image = None
    if request.user.is_authenticated:
        image = (
            CandidateFace.objects.filter(
                pk=face_id,
                digest=digest,
                state=CandidateFace.State.STORED,
                migration__owner=request.user,
            )
            .values_list("image", flat=True)
            .first()
        )
    if image is None:
        raise Http404("No such avatar.")
    response = _picture(bytes(image))
    response["Cache-Control"] = PRIVATE_CACHE
    return response
