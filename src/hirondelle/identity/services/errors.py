"""Errors of the directory services.

    DirectoryError
     ├── InvalidLink          a handle, id or evidence that cannot be right
     ├── RosterError          an institutional roster CSV with bad rows
     ├── KeyError_            no signing key / unknown publisher key
     └── SnapshotError        a snapshot that cannot be imported
          ├── UntrustedPublisher   signed by a key the person does not trust
          └── TamperedSnapshot     changed after it was signed

Messages say what is wrong and what to do; the command line prints them as is.
"""

from __future__ import annotations

__all__ = [
    "DirectoryError",
    "InvalidLink",
    "KeyError_",
    "RosterError",
    "SnapshotError",
    "TamperedSnapshot",
    "UntrustedPublisher",
]


class DirectoryError(Exception):
    """Base of every directory error."""


class InvalidLink(DirectoryError, ValueError):
    pass


class RosterError(DirectoryError):
    pass


class KeyError_(DirectoryError):
    pass


class SnapshotError(DirectoryError):
    pass


class UntrustedPublisher(SnapshotError):
    pass


class TamperedSnapshot(SnapshotError):
    pass
