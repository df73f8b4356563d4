"""The whole pipeline over the posts of a realistic generated archive.

`tests.support.x_archive` renders archives for the reader's tests and says
which `Post` records a correct reader yields: escaped characters, notes,
edits, threads, quotes, retweets, media. Every one of them must prepare.
"""

from __future__ import annotations

import pytest

from hirondelle.compose import BLUESKY, MASTODON, Filters, fits, plan, prepare_many
from tests.compose.strategies import bluesky_resolver, mastodon_resolver
from tests.compose.test_facets import check_facets
from tests.support.x_archive import expected_posts, sample_spec


@pytest.fixture(scope="module")
def posts():
    return expected_posts(sample_spec(7, n_posts=400, n_following=10, n_likes=0))


@pytest.mark.parametrize("network", ["bluesky", "mastodon"])
def test_every_post_of_a_sample_archive_prepares(posts, network: str) -> None:
    resolver = bluesky_resolver if network == "bluesky" else mastodon_resolver
    limits = BLUESKY if network == "bluesky" else MASTODON
    everything = Filters(include_replies=True, include_retweets=True)
    results = list(prepare_many(posts, network, filters=everything, resolve_mention=resolver))
    assert len(results) == len({p.id for p in posts})
    failures = [(r.post.id, r.post.text, str(r.error)) for r in results if r.error]
    # Only posts with nothing left to show may fail (no text, media absent).
    assert all("nothing to republish" in error for _, _, error in failures), failures
    published_before: set[str] = set()
    for result in results:
        for draft in result.drafts:
            assert fits(draft.text, limits)
            if network == "bluesky":
                check_facets(draft.text, list(draft.facets))
            for ref in (draft.reply_to, draft.quote):
                if ref is not None and ref.post_id != result.post.id:
                    assert ref.post_id in published_before  # parents and targets first
        published_before.add(result.post.id)


def test_default_plan_of_a_sample_archive(posts) -> None:
    chosen = plan(posts)
    assert chosen
    assert not any(p.is_retweet or p.is_reply_to_others for p in chosen)
    assert len(chosen) < len(posts)
