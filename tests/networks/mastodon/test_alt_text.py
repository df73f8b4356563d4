"""Describing images after publishing, on mastodon-mock (a stateful imitation
of Mastodon's API, not Mastodon): the adapter edits the status with
`media_attributes` and keeps its text. The mock accepts the edit but does not
apply media descriptions, so the request itself is checked."""

from __future__ import annotations

import io

import requests
from PIL import Image

from hirondelle.networks.base import MediaUpload, OutgoingPost
from hirondelle.networks.mastodon import MastodonAdapter
from tests.support.mastodon_peer import TOKEN, Recorder


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "blue").save(out, "PNG")
    return out.getvalue()


def test_alt_text_edit_keeps_the_status_and_names_each_image(mastodon_peer):
    recorder = Recorder()
    adapter = MastodonAdapter(
        mastodon_peer.base_url, TOKEN, session=recorder.attach(requests.Session())
    )
    post = OutgoingPost(
        text="Swallows, 12 March 2019",
        key="alt-1",
        media=[MediaUpload(png(), "image/png"), MediaUpload(png(), "image/png")],
    )
    published = adapter.publish(post)
    adapter.set_alt_texts(published, ["First swallow", "Second swallow"])
    adapter.close()

    edit = next(r for r in recorder.requests if r.method == "PUT")
    assert edit.path == f"/api/v1/statuses/{published.uri}"
    assert edit.body["status"] == "Swallows, 12 March 2019"
    status = mastodon_peer.get(f"/api/v1/statuses/{published.uri}")
    ids = [m["id"] for m in status["media_attachments"]]
    assert edit.body["media_ids"] == ids
    assert edit.body["media_attributes"] == [
        {"id": ids[0], "description": "First swallow"},
        {"id": ids[1], "description": "Second swallow"},
    ]
    assert status["content"].count("Swallows") == 1  # the text is unchanged
