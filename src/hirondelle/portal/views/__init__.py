"""One module per page; each view only calls services."""

from hirondelle.portal.views.avatar import avatar, proposal_avatar
from hirondelle.portal.views.bluesky_oauth import (
    bluesky_oauth_client_metadata,
    bluesky_oauth_jwks,
    signin_bluesky_oauth,
    signin_bluesky_oauth_callback,
)
from hirondelle.portal.views.consent import consent
from hirondelle.portal.views.delete import delete
from hirondelle.portal.views.discover import discover, discover_progress
from hirondelle.portal.views.home import home
from hirondelle.portal.views.later import later
from hirondelle.portal.views.lists import lists
from hirondelle.portal.views.privacy import privacy
from hirondelle.portal.views.report import report
from hirondelle.portal.views.republish import republish
from hirondelle.portal.views.review import review
from hirondelle.portal.views.run import run, run_progress, run_start
from hirondelle.portal.views.signin import (
    signin,
    signin_bluesky,
    signin_mastodon,
    signin_mastodon_callback,
    signout,
)
from hirondelle.portal.views.stats import stats
from hirondelle.portal.views.upload import (
    upload,
    upload_file,
    upload_files,
    upload_finish,
    upload_new,
    upload_status,
)
from hirondelle.portal.views.x_signin import x_signin_callback, x_signin_start

__all__ = [
    "avatar",
    "bluesky_oauth_client_metadata",
    "bluesky_oauth_jwks",
    "consent",
    "delete",
    "discover",
    "discover_progress",
    "home",
    "later",
    "lists",
    "privacy",
    "proposal_avatar",
    "report",
    "republish",
    "review",
    "run",
    "run_progress",
    "run_start",
    "signin",
    "signin_bluesky",
    "signin_bluesky_oauth",
    "signin_bluesky_oauth_callback",
    "signin_mastodon",
    "signin_mastodon_callback",
    "signout",
    "stats",
    "upload",
    "upload_file",
    "upload_files",
    "upload_finish",
    "upload_new",
    "upload_status",
    "x_signin_callback",
    "x_signin_start",
]
