from django.contrib import admin
from django.urls import include, path

from hirondelle.institutions import views as institution_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(".well-known/atproto-did", institution_views.atproto_did, name="atproto_did"),
    path("", include("hirondelle.institutions.urls")),
    path("", include("hirondelle.portal.urls")),
]
