"""An institution's own PDS: the real @atproto/dev-env PDS (no AppView), configured
like `bluesky-social/pds` for an institution: handles under `.social.example.fr`,
invites required, the admin password, a rate-limit bypass key, and its e-mails
sent to a local SMTP catcher (aiosmtpd)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.support.atproto_peer import AtprotoPeerUnavailable, start_atproto_peer
from tests.support.smtp_catcher import SmtpCatcher, start_smtp_catcher

HANDLE_DOMAIN = ".social.example.fr"
BYPASS_KEY = "bypass-key-for-tests"
_tags = itertools.count(1)


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpCatcher]:
    catcher = start_smtp_catcher()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def institution_pds(smtp):
    try:
        peer = start_atproto_peer(
            appview=False,
            rate_limits=True,
            pds_config={
                "serviceHandleDomains": [HANDLE_DOMAIN],
                "inviteRequired": True,
                "emailSmtpUrl": smtp.url,
                "emailFromAddress": "noreply@social.example.fr",
                "rateLimitBypassKey": BYPASS_KEY,
            },
        )
    except AtprotoPeerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def institution_stack(smtp):
    """The same institution PDS with the reference AppView (and its PostgreSQL and
    Redis) beside it: what citizens see. `.test` stays a service domain only
    because dev-env's own moderation accounts are made there."""
    try:
        peer = start_atproto_peer(
            appview=True,
            rate_limits=True,
            pds_config={
                "serviceHandleDomains": [HANDLE_DOMAIN, ".test"],
                "inviteRequired": True,
                "emailSmtpUrl": smtp.url,
                "emailFromAddress": "noreply@social.example.fr",
                "rateLimitBypassKey": BYPASS_KEY,
            },
        )
    except AtprotoPeerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield peer
    peer.stop()


@pytest.fixture
def make_stack_institution(institution_stack, tag):
    """An institution whose PDS is `institution_stack` (with its AppView)."""
    return _maker(institution_stack, tag)


@pytest.fixture
def tag() -> str:
    """A tag unique in the session: e-mails and handles stay unique on the shared PDS."""
    return f"r{next(_tags)}"


@pytest.fixture
def make_institution(institution_pds, tag):
    return _maker(institution_pds, tag)


def _maker(peer, tag):
    from hirondelle.institutions.services.setup import add_institution, set_server

    def make(slug: str | None = None, *, bypass: bool = True):
        inst = add_institution(
            slug or f"inst-{tag}",
            f"Assemblée {tag}",
            handle_domain=f"{tag}.deputes.example.fr",
            page_url=f"https://www.example.fr/{tag}/officiels.html",
        )
        set_server(
            inst,
            "pds",
            peer.pds,
            HANDLE_DOMAIN,
            credentials={
                "admin_password": peer.admin_password,
                "bypass_key": BYPASS_KEY if bypass else "",
            },
        )
        return inst

    return make


# The institution's own Mastodon/GoToSocial server: a MOCK (see tests/support/fedi_server.py).
from tests.support.fedi_server import _fedi_server, fedi_peer  # noqa: E402, F401
