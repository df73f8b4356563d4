"""Adapters for the destination networks: pure Python, no Django."""
