"""Fixtures for the Mastodon adapter tests (the peer lives in tests/support)."""

from tests.support.mastodon_peer import _mastodon_server, mastodon_peer

__all__ = ["_mastodon_server", "mastodon_peer"]
