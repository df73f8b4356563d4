from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hirondelle.portal.services.current import current_migration, my_accounts


def home(request: HttpRequest) -> HttpResponse:
    """Welcome, what happens to the data, and where the person stands."""
    return render(
        request,
        "portal/home.html",
        {"migration": current_migration(request.user), "accounts": my_accounts(request.user)},
    )
