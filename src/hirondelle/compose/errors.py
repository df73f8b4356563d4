"""Errors of the compose package.

ValueError
 └── ComposeError          a post cannot be made ready for a network
      └── MediaError       a media file cannot be attached (unreadable, too large)
"""

from __future__ import annotations

__all__ = ["ComposeError", "MediaError"]


class ComposeError(ValueError):
    """A post, a limit or an option that the pipeline cannot work with; says why."""


class MediaError(ComposeError):
    """A media file that cannot be attached; the post can still go without it."""
