from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hirondelle.portal.services.consent import current_consent
from hirondelle.portal.services.current import current_migration
from hirondelle.portal.services.later import arrivals_since


@login_required
def later(request: HttpRequest) -> HttpResponse:
    """Who came since my archive was imported, and whether they are followed."""
    migration = current_migration(request.user)
    return render(
        request,
        "portal/later.html",
        {
            "migration": migration,
            "arrivals": arrivals_since(migration) if migration else [],
            "consent": current_consent(migration) if migration else None,
        },
    )
