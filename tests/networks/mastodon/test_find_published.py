"""Finding a post the network accepted but whose answer was lost, on
mastodon-mock (an imitation of Mastodon's API, not Mastodon): Mastodon forgets
an `Idempotency-Key` after about an hour, so a later retry must look first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from hirondelle.networks.base import OutgoingPost
from hirondelle.networks.mastodon import MastodonAdapter
from tests.networks.mastodon.contract import problems
from tests.support.mastodon_peer import TOKEN, Recorder


def test_a_sent_post_is_found_by_its_text_and_its_parent(mastodon_peer):
    recorder = Recorder()
    adapter = MastodonAdapter(
        mastodon_peer.base_url, TOKEN, session=recorder.attach(requests.Session())
    )
    before = datetime.now(UTC) - timedelta(minutes=1)
    text = (
        "Les hirondelles & @bob reviennent 🐦 https://example.org/un/tres/long/chemin/vers/la/page"
    )
    root = adapter.publish(OutgoingPost(text=text, key="first-key"))
    reply = adapter.publish(OutgoingPost(text="Suite du fil.", key="reply-key", reply_to=root))
    adapter.publish(OutgoingPost(text="Autre chose.", key="other-key"))

    # A new key: the server would not recognise the retry by itself.
    again = OutgoingPost(text=text, key="key-after-an-hour")
    assert adapter.find_published(again, since=before).uri == root.uri
    follow_up = OutgoingPost(text="Suite du fil.", key="k2", reply_to=root)
    assert adapter.find_published(follow_up, since=before).uri == reply.uri
    # the same words as a top-level post are another post
    assert (
        adapter.find_published(OutgoingPost(text="Suite du fil.", key="k3"), since=before) is None
    )
    assert adapter.find_published(OutgoingPost(text=text + " !", key="k4"), since=before) is None
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert adapter.find_published(again, since=later) is None
    adapter.close()
    wrong = {f"{r.method} {r.path}": problems(r) for r in recorder.requests if problems(r)}
    assert not wrong
