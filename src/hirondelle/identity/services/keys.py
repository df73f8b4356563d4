"""Ed25519 keys: this installation's signing key, and the publisher keys it trusts.

The signing key lives in the data directory (mode 0600), never in the
database: a leaked database backup cannot sign snapshots.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings

from hirondelle.identity.models import PublisherKey
from hirondelle.identity.services.errors import KeyError_

__all__ = [
    "SigningKey",
    "decode_public_key",
    "generate_signing_key",
    "load_signing_key",
    "trust_publisher",
    "untrust_publisher",
]

KEY_FILE = "directory_signing_key.json"


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def public_b64(self) -> str:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()


def _key_path(data_dir: Path | None) -> Path:
    return Path(data_dir or settings.DATA_DIR) / KEY_FILE


def generate_signing_key(
    name: str, *, data_dir: Path | None = None, replace: bool = False
) -> SigningKey:
    """Create the key snapshots are signed with; refuses to overwrite one unless asked."""
    if not name.strip():
        raise KeyError_("Give the publisher a name (shown to people importing your snapshots).")
    path = _key_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not replace:
        raise KeyError_(
            f"A signing key already exists in {path}. Pass --replace to make a new one "
            "(everyone who trusts the old key will have to trust the new one)."
        )
    key = SigningKey(name.strip(), Ed25519PrivateKey.generate())
    raw = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    body = json.dumps({"name": key.name, "private_key": base64.b64encode(raw).decode()})
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(body)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return key


def load_signing_key(*, data_dir: Path | None = None) -> SigningKey:
    path = _key_path(data_dir)
    try:
        data = json.loads(path.read_text())
        raw = base64.b64decode(data["private_key"], validate=True)
        return SigningKey(data["name"], Ed25519PrivateKey.from_private_bytes(raw))
    except FileNotFoundError:
        raise KeyError_(
            'No signing key yet: run `hirondelle directory keygen --name "Your name"` first.'
        ) from None
    except (ValueError, KeyError, binascii.Error) as exc:
        raise KeyError_(f"The signing key in {path} is unreadable ({exc}).") from None


def decode_public_key(text: str) -> Ed25519PublicKey:
    """A raw Ed25519 public key in base64, or KeyError_ saying what is wrong."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        raise KeyError_(
            f"{text!r} is not an Ed25519 public key (44 characters of base64, "
            "as printed by `hirondelle directory keygen`)."
        ) from None


def trust_publisher(name: str, public_key: str, *, note: str = "") -> PublisherKey:
    """Accept snapshots signed by this key from now on."""
    decode_public_key(public_key)
    key = public_key.strip()
    existing = PublisherKey.objects.filter(public_key=key).first()
    if existing and existing.name != name:
        raise KeyError_(f"This key is already trusted as {existing.name!r}.")
    publisher, _ = PublisherKey.objects.update_or_create(
        name=name, defaults={"public_key": key, "trusted": True, "note": note}
    )
    return publisher


def untrust_publisher(name: str) -> None:
    """Refuse this publisher's snapshots from now on (links already merged stay)."""
    updated = PublisherKey.objects.filter(name=name).update(trusted=False)
    if not updated:
        raise KeyError_(f"No publisher named {name!r}: `hirondelle directory keys` lists them.")
