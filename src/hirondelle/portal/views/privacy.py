from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def privacy(request: HttpRequest) -> HttpResponse:
    """What is read, what is never read, where data goes, how to delete it."""
    return render(request, "portal/privacy.html")
