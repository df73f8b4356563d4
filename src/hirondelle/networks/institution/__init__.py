"""What an institution's own servers need: pure Python, no Django.

- `pds`: a Bluesky PDS's admin and account XRPC (invites, accounts, records,
  password resets), counting requests and write points;
- `fediverse`: Mastodon and GoToSocial registration and admin approval;
- `handles`: the PDS's handle rules (one label of 3–18 characters);
- `relme`: a port of Mastodon's rel=me link verification, and the page that passes it.

Every HTTP client comes from `_http.http_client`, one place to route it
through the project's outgoing-request guard.
"""

from hirondelle.networks.institution._http import http_client

__all__ = ["http_client"]
