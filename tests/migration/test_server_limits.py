"""Posts are planned with the connected server's own limits, on every path.

Against mastodon-mock (a mock of Mastodon's REST API on 127.0.0.1, not
Mastodon), told by `server_limits` to serve and enforce a 10,000-character
limit as many real servers do; Bluesky's 300 graphemes are its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from hirondelle.archive.records import Account
from hirondelle.cli import main
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.republishing import limits_for_account, plan_republish
from tests.support.mastodon_peer import TOKEN, server_limits
from tests.support.x_archive import ArchiveSpec, TweetSpec, write_archive

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
LONG_TEXT = " ".join(f"word{i}" for i in range(300))  # about 2,400 characters


def _spec() -> ArchiveSpec:
    me = Account("111", "swallow", "Swallow")
    return ArchiveSpec(
        account=me,
        tweets=[TweetSpec(id="1754000000000000000", created_at=WHEN, text=LONG_TEXT, long=True)],
    )


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_server_allowing_10000_characters_gets_one_post_not_five(mastodon_peer, tmp_path):
    invoke("import", str(write_archive(tmp_path, _spec())))
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)
    with server_limits(max_characters=10_000):
        preview = json.loads(invoke("republish", "--to", "mastodon", "--dry-run", "--json"))
        assert (preview["posts"], preview["parts"]) == (1, 1)
        assert preview["limits"]["max_characters"] == 10_000
        invoke("republish", "--to", "mastodon", "--language", "en")
    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")
    (status,) = mastodon_peer.get(f"/api/v1/accounts/{me['id']}/statuses", limit=40)
    assert "word299" in status["content"]
    assert "word0 " in status["content"]


def test_the_default_500_still_splits(mastodon_peer, tmp_path):
    """The control: the same post on a server with Mastodon's default limit."""
    invoke("import", str(write_archive(tmp_path, _spec())))
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)
    preview = json.loads(invoke("republish", "--to", "mastodon", "--dry-run", "--json"))
    assert preview["limits"]["max_characters"] == 500
    assert preview["parts"] >= 5


def test_the_page_and_the_background_plan_with_the_servers_limits(mastodon_peer, tmp_path):
    """The page's preview and the worker call the same service: plan_republish."""
    from hirondelle.identity.models import User
    from hirondelle.migration.services.importing import import_archive

    owner = User.objects.create(username="page")
    migration = import_archive(write_archive(tmp_path, _spec()), owner=owner).migration
    account = ConnectedAccount.objects.create(
        user=owner,
        network="mastodon",
        server=mastodon_peer.base_url,
        handle="alice@mock.local",
        credentials={"access_token": TOKEN},
    )
    with server_limits(max_characters=10_000, max_media_attachments=8):
        limits = limits_for_account(account)
        assert (limits.max_graphemes, limits.max_images) == (10_000, 8)
        summary = plan_republish(migration, account)
    assert (summary.posts, summary.parts) == (1, 1)
    assert PlanItem.objects.get(account=account, kind="post").payload["text"].count("word") == 300


def test_bluesky_plans_with_300_graphemes(tmp_path):
    from hirondelle.identity.models import User
    from hirondelle.migration.services.importing import import_archive

    owner = User.objects.create(username="sky")
    migration = import_archive(write_archive(tmp_path, _spec()), owner=owner).migration
    account = ConnectedAccount.objects.create(
        user=owner, network="bluesky", server="https://pds.example", handle="a.test"
    )
    summary = plan_republish(migration, account, dry_run=True)
    assert summary.as_dict()["limits"]["max_characters"] == 300
    assert summary.parts >= 2400 // 300
