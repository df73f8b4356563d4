from django.urls import path

from hirondelle.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("signin/", views.signin, name="signin"),
    path("signin/mastodon/", views.signin_mastodon, name="signin_mastodon"),
    path(
        "signin/mastodon/callback/",
        views.signin_mastodon_callback,
        name="signin_mastodon_callback",
    ),
    path("signin/bluesky/", views.signin_bluesky, name="signin_bluesky"),
    path("signin/bluesky/oauth/", views.signin_bluesky_oauth, name="signin_bluesky_oauth"),
    path(
        "signin/bluesky/oauth/callback/",
        views.signin_bluesky_oauth_callback,
        name="signin_bluesky_oauth_callback",
    ),
    path(
        "oauth/client-metadata.json",
        views.bluesky_oauth_client_metadata,
        name="bluesky_oauth_client_metadata",
    ),
    path("oauth/jwks.json", views.bluesky_oauth_jwks, name="bluesky_oauth_jwks"),
    path("signout/", views.signout, name="signout"),
    path("x/prove/", views.x_signin_start, name="x_signin_start"),
    path("x/callback/", views.x_signin_callback, name="x_signin_callback"),
    path("upload/", views.upload, name="upload"),
    path("upload/new", views.upload_new, name="upload_new"),
    path("upload/<uuid:upload_id>/", views.upload_status, name="upload_status"),
    path("upload/<uuid:upload_id>/file", views.upload_file, name="upload_file"),
    path("upload/<uuid:upload_id>/files", views.upload_files, name="upload_files"),
    path("upload/<uuid:upload_id>/finish", views.upload_finish, name="upload_finish"),
    path("consent/", views.consent, name="consent"),
    path("review/", views.review, name="review"),
    path("discover/", views.discover, name="discover"),
    path("discover/progress.json", views.discover_progress, name="discover_progress"),
    path("run/", views.run, name="run"),
    path("run/start", views.run_start, name="run_start"),
    path("run/progress.json", views.run_progress, name="run_progress"),
    path("republish/", views.republish, name="republish"),
    path("lists/", views.lists, name="lists"),
    path("later/", views.later, name="later"),
    path("report/<int:link_id>/", views.report, name="report"),
    path("stats/", views.stats, name="stats"),
    path("delete/", views.delete, name="delete"),
    path("avatars/<int:account_id>/<slug:digest>.webp", views.avatar, name="avatar"),
    path(
        "discover/avatars/<int:face_id>/<slug:digest>.webp",
        views.proposal_avatar,
        name="proposal_avatar",
    ),
]
