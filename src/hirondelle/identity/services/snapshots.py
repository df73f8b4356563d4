"""Signed directory snapshots: JSON Lines of consented links plus a detached signature.

A snapshot is `NAME.jsonl`, one link per line::

    {"x_id": "12", "x_username": "lemonde", "network": "mastodon",
     "handle": "lemonde@mastodon.social", "id": "https://mastodon.social/users/lemonde",
     "evidence": "roster", "asserted_at": "2026-01-02T03:04:05Z", "asserted_by": "Le Monde",
     "followable": true, "follows_arrivals": false}

and `NAME.jsonl.sig`, a small JSON file naming the publisher, its public key,
the file's SHA-256 and line count, and an Ed25519 signature over those. The
digest is signed rather than the file so that a ten-million-line snapshot is
verified in one streaming pass. Only links whose owner consented to be
findable are ever written.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from django.db import transaction
from django.utils import timezone

from hirondelle.identity.models import Consent, Link, PublisherKey, x_id_from_db
from hirondelle.identity.services.directory import MergeStats
from hirondelle.identity.services.errors import (
    InvalidLink,
    SnapshotError,
    TamperedSnapshot,
    UntrustedPublisher,
)
from hirondelle.identity.services.keys import SigningKey, decode_public_key, load_signing_key
from hirondelle.identity.services.staged_merge import merge_staged, stage_row

__all__ = ["ExportResult", "ImportResult", "export_snapshot", "import_snapshot"]

FORMAT = "hirondelle-directory-snapshot/1"


class _Line(msgspec.Struct, forbid_unknown_fields=False):
    x_id: str
    network: str
    handle: str
    id: str
    evidence: str
    asserted_at: datetime
    asserted_by: str = ""
    x_username: str = ""
    followable: bool = False
    follows_arrivals: bool = False


class _Signature(msgspec.Struct):
    format: str
    publisher: str
    public_key: str
    sha256: str
    lines: int
    signature: str
    created_at: str = ""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    signature_path: Path
    lines: int
    publisher: str
    public_key: str


@dataclass(frozen=True)
class ImportResult:
    path: Path
    publisher: str
    lines: int
    stats: MergeStats


def _statement(publisher: str, digest: str, lines: int) -> bytes:
    """What is signed: the format, who signs, and the file's digest and size."""
    return f"{FORMAT}\n{publisher}\n{digest}\n{lines}\n".encode()


def signature_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def _consented_rows() -> Iterator[tuple]:
    return (
        Link.objects.usable()
        .findable()
        .order_by("x_account_id", "network", "network_account_id")
        .values_list(
            "x_account_id",
            "x_account__username",
            "network",
            "network_account__handle",
            "network_account__uri",
            "evidence",
            "asserted_at",
            "asserted_by",
            "x_account__consent__auto_followable",
            "x_account__consent__auto_follow_arrivals",
        )
        .iterator(chunk_size=10_000)
    )


def export_snapshot(path: Path, *, key: SigningKey | None = None) -> ExportResult:
    """Write every consented, usable link to `path` and sign it (`path`.sig)."""
    key = key or load_signing_key()
    path = Path(path)
    digest = hashlib.sha256()
    lines = 0
    encoder = msgspec.json.Encoder()
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as out:
        for (
            x_id,
            username,
            network,
            handle,
            uri,
            evidence,
            at,
            by,
            followable,
            follows,
        ) in _consented_rows():
            record = {
                "x_id": str(x_id_from_db(x_id)),
                "x_username": username,
                "network": network,
                "handle": handle,
                "id": uri,
                "evidence": evidence,
                "asserted_at": at,
                "asserted_by": by,
                "followable": bool(followable),
                "follows_arrivals": bool(follows),
            }
            data = encoder.encode(record) + b"\n"
            out.write(data)
            digest.update(data)
            lines += 1
    hexdigest = digest.hexdigest()
    signature = key.private.sign(_statement(key.name, hexdigest, lines))
    tmp.replace(path)
    sig_path = signature_path_for(path)
    sig = {
        "format": FORMAT,
        "publisher": key.name,
        "public_key": key.public_b64,
        "sha256": hexdigest,
        "lines": lines,
        "created_at": timezone.now().isoformat(),
        "signature": base64.b64encode(signature).decode(),
    }
    sig_path.write_text(json.dumps(sig, indent=2) + "\n")
    return ExportResult(path, sig_path, lines, key.name, key.public_b64)


def _read_signature(path: Path, sig_path: Path) -> _Signature:
    try:
        sig = msgspec.json.decode(sig_path.read_bytes(), type=_Signature)
    except FileNotFoundError:
        raise SnapshotError(
            f"{path} has no signature ({sig_path.name} is missing): a snapshot is only "
            "imported with the signature its publisher made. Nothing was imported."
        ) from None
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"{sig_path} is not a snapshot signature ({exc}).") from None
    if sig.format != FORMAT:
        raise SnapshotError(
            f"{sig_path}: unknown snapshot format {sig.format!r} (expected {FORMAT})."
        )
    return sig


def _trusted_key(path: Path, sig: _Signature) -> PublisherKey:
    publisher = PublisherKey.objects.filter(public_key=sig.public_key.strip(), trusted=True).first()
    if publisher is None:
        raise UntrustedPublisher(
            f"{path} is signed by {sig.publisher!r} with key {sig.public_key}, which you do not "
            "trust. If you know this publisher and this is their key, run "
            f'`hirondelle directory trust "{sig.publisher}" {sig.public_key}`; '
            "nothing was imported."
        )
    return publisher


def _digest(path: Path) -> tuple[str, int]:
    digest, lines = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for line in f:
            digest.update(line)
            lines += 1
    return digest.hexdigest(), lines


def _verify(path: Path, sig: _Signature, publisher: PublisherKey, digest: str, lines: int) -> None:
    key = decode_public_key(publisher.public_key)
    try:
        signature = base64.b64decode(sig.signature, validate=True)
        key.verify(signature, _statement(sig.publisher, digest, lines))
    except (InvalidSignature, ValueError):
        raise TamperedSnapshot(
            f"{path} does not match its signature: it was changed after "
            f"{publisher.name!r} signed it, or the signature is not theirs. "
            "Nothing was imported; ask the publisher for a fresh copy."
        ) from None


def import_snapshot(
    path: Path, *, signature: Path | None = None, batch_size: int = 50_000
) -> ImportResult:
    """Verify a snapshot against the trusted publisher keys, then merge its links.

    All or nothing: the signature is checked before anything is written, and
    the file is hashed again while it is merged, so a file changed in between
    rolls the whole import back. The rows are staged, then merged as set
    operations (`merge_staged`); `batch_size` rows are staged at a time.
    """
    path = Path(path)
    sig_path = Path(signature) if signature else signature_path_for(path)
    sig = _read_signature(path, sig_path)
    publisher = _trusted_key(path, sig)
    try:
        digest, lines = _digest(path)
    except FileNotFoundError:
        raise SnapshotError(f"{path} does not exist.") from None
    _verify(path, sig, publisher, digest, lines)

    rehash = hashlib.sha256()
    counted = 0

    def rows() -> Iterator[tuple]:
        nonlocal counted
        decoder = msgspec.json.Decoder(_Line)
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                rehash.update(raw)
                counted += 1
                try:
                    line = decoder.decode(raw)
                    yield stage_row(
                        line.x_id,
                        line.network,
                        line.handle,
                        line.id,
                        line.evidence,
                        line.asserted_by or publisher.name,
                        line.asserted_at,
                        line.x_username,
                        (True, line.followable, line.follows_arrivals),
                    )
                except (msgspec.DecodeError, InvalidLink) as exc:
                    raise SnapshotError(f"{path}, line {number}: {exc}") from None

    try:
        with transaction.atomic():
            stats = merge_staged(
                rows(),
                publisher=publisher,
                consent_source=Consent.Source.SNAPSHOT,
                chunk=batch_size,
            )
            if (rehash.hexdigest(), counted) != (digest, lines):
                raise TamperedSnapshot(
                    f"{path} changed while it was being imported; nothing was imported."
                )
    except InvalidLink as exc:
        raise SnapshotError(f"{path}: {exc} Nothing was imported.") from None
    return ImportResult(path, publisher.name, lines, stats)
