from django.urls import path

from hirondelle.institutions import views

app_name = "institutions"

urlpatterns = [
    path("institutions/<slug:slug>/", views.institution_page, name="page"),
    path("institutions/<slug:slug>/officiels.html", views.relme_page, name="relme"),
    path("institutions/<slug:slug>/follow/", views.follow_all, name="follow"),
    path("institutions/<slug:slug>/following.csv", views.importer_csv, name="csv"),
    path("institutions/<slug:slug>/claim/", views.claim_start, name="claim"),
    path("institutions/<slug:slug>/claim/code/", views.claim_code, name="claim_code"),
    path("institutions/<slug:slug>/claim/done/", views.claim_done, name="claim_done"),
]
