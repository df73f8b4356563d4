from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from hirondelle.identity.models import AccountAvatar

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
    response = HttpResponse(bytes(image), content_type="image/webp")
    response["Cache-Control"] = CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # A picture needs nothing: even opened on its own, it may run or load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
