from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hirondelle.migration.services.erasure import erase_person


@login_required
def delete(request: HttpRequest) -> HttpResponse:
    """Confirm, then erase everything about the person and revoke Hirondelle's access."""
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "portal/delete.html", {"unconfirmed": request.method == "POST"})
    user = request.user
    report = erase_person(user)
    logout(request)
    return render(request, "portal/deleted.html", {"report": report})
