"""The one error the archive reader raises.

Every bad input (not a zip, not an X archive, a truncated or damaged zip,
corrupt JSON, an unsupported era, a zip bomb, an unsafe path) becomes an
`ArchiveError` whose message says what is wrong and where, so callers never
show a raw traceback.
"""

from __future__ import annotations

__all__ = ["ArchiveError"]


class ArchiveError(Exception):
    """The archive cannot be read; the message says what and where.

    `member` is the file inside the archive (if any) and `offset` the byte
    offset inside that file's uncompressed content (if known).
    """

    def __init__(self, message: str, *, member: str | None = None, offset: int | None = None):
        self.member = member
        self.offset = offset
        where = ""
        if member is not None:
            where = f" [in {member}" + (f" at byte {offset}" if offset is not None else "") + "]"
        super().__init__(message + where)
