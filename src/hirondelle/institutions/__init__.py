"""Institutions on their own servers: an official address for each of their people.

roster (CSV) ─► officials ─► provision (PDS / GoToSocial / Mastodon) ─► claim
  ─► verify (Bluesky verification records, rel=me page) ─► starter packs,
  curated list, importer CSV ─► directory (`roster` links) ─► followers.

A separate app from `identity`: `identity` keeps the directory (who is where,
with what evidence); this app holds what an institution runs (its servers,
their admin credentials, each official's provisioning state) and writes into
the directory through its public services only.
"""
