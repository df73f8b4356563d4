"""Hirondelle: leave X without losing anyone."""

__version__ = "0.1.0"
