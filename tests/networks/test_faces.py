"""Faces read from other servers (`hirondelle.networks.faces`): hostile text
and hostile pictures.

The hostile answers come from a small scripted server on 127.0.0.1
(tests/support/listener.py); where the guard must judge a public name, a
stub resolver names it and the stub connector still goes to 127.0.0.1.
Nothing leaves the loopback address.
"""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import Image

from hirondelle.networks import faces, guard
from hirondelle.networks.errors import NetworkError, NotFound
from tests.support.listener import PUBLIC, Stubs, answer


def picture(fmt: str = "PNG", size: tuple[int, int] = (300, 200), color=(200, 30, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


# -- display names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Alice", "Alice"),
        ("  Alice \n\t Martin  ", "Alice Martin"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override dropped
        ("a\u2066b\u2069c\u200bd\u200ee", "abcde"),  # isolates, zero-width, marks
        ("bell\x07\x00null", "bellnull"),
        ("Chloé :blobcat: 🦋", "Chloé :blobcat: 🦋"),  # shortcodes stay text
        ("👩\u200d💻 dev", "👩\u200d💻 dev"),  # joiners inside emoji kept
        ("Z" + "\u0301" * 50, "\u0179\u0301\u0301\u0301"),  # no pile of combining marks
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # text: escaped on output
        (None, ""),
        (42, ""),
    ],
)
def test_display_names_are_filtered(raw, shown) -> None:
    assert faces.clean_display_name(raw) == shown


def test_display_names_are_capped() -> None:
    name = faces.clean_display_name("x" * 5000)
    assert len(name) == faces.DISPLAY_NAME_MAX
    assert name.endswith("…")


# -- pictures ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_real_pictures_become_a_small_webp_square(fmt: str) -> None:
    data = faces.reencode(picture(fmt))
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (faces.AVATAR_SIZE, faces.AVATAR_SIZE)
        assert image.format == "WEBP"
        assert not getattr(image, "is_animated", False)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<!doctype html><html><script>alert(1)</script></html>",
        b'{"not": "a picture"}',
        b"",
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,  # the right magic, then nothing readable
    ],
    ids=["svg", "html", "json", "empty", "broken-png"],
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(faces.AvatarRefused):
        faces.reencode(data)


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be huge (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_a_picture_claiming_too_many_pixels_is_not_decoded() -> None:
    with pytest.raises(faces.AvatarRefused) as refused:
        faces.reencode(_png_header(50_000, 50_000))
    assert refused.value.reason in ("pixels", "unreadable")


# -- fetching through the guard, from a hostile server -----------------------------------


def _local(port: int) -> guard.Policy:
    return guard.Policy(allow_private=True)


def test_a_real_avatar_is_fetched_and_reencoded(serve) -> None:
    port = serve(lambda r: answer(r, picture("JPEG"), headers={"Content-Type": "image/jpeg"}))
    with faces.avatar_client(policy=_local(port)) as client:
        data = faces.fetch_avatar(f"http://127.0.0.1:{port}/a.jpg", client)
    assert faces.sniff(data) == "WEBP"


@pytest.mark.parametrize(
    "body",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"<html><body>not a picture</body></html>",
        b"plain text",
    ],
    ids=["svg-as-png", "html-as-png", "text-as-png"],
)
def test_the_content_type_is_not_believed(serve, body: bytes) -> None:
    port = serve(lambda r: answer(r, body, headers={"Content-Type": "image/png"}))
    with faces.avatar_client(policy=_local(port)) as client, pytest.raises(faces.AvatarRefused):
        faces.fetch_avatar(f"http://127.0.0.1:{port}/a.png", client)


@pytest.mark.parametrize("length", [True, False], ids=["announced", "streamed"])
def test_an_oversized_picture_is_not_read_whole(serve, length: bool) -> None:
    big = picture("PNG", (64, 64)) + b"\0" * (faces.AVATAR_MAX_BYTES + 1)
    port = serve(lambda r: answer(r, big, headers={"Content-Type": "image/png"}, length=length))
    with faces.avatar_client(policy=_local(port)) as client, pytest.raises(guard.TooLarge):
        faces.fetch_avatar(f"http://127.0.0.1:{port}/big.png", client)


def test_a_redirect_to_a_private_address_is_refused(serve) -> None:
    port = serve(
        lambda r: answer(r, b"", status=302, headers={"Location": "http://169.254.169.254/a.png"})
    )
    stubs = Stubs(answers={"avatars.cdn-host.net": [[PUBLIC]]}, local_port=port)
    policy = stubs.policy(allow_http=True)
    client = faces.avatar_client(policy=policy)
    with client, pytest.raises(guard.AddressRefused) as refused:
        faces.fetch_avatar(f"http://avatars.cdn-host.net:{port}/a.png", client)
    assert refused.value.reason == "private"
    assert stubs.connections == [(PUBLIC, port)]  # the redirect's target was never reached


def test_a_slow_answer_stops_at_the_deadline(serve, monkeypatch) -> None:
    def drip(request):
        request.send_response(200)
        request.send_header("Content-Type", "image/png")
        request.send_header("Content-Length", "100000")
        request.end_headers()
        for _ in range(100):
            request.wfile.write(b"\x89")
            request.wfile.flush()
            time.sleep(0.1)

    port = serve(drip)
    monkeypatch.setattr(faces, "AVATAR_DEADLINE", 1.0)
    started = time.monotonic()
    with faces.avatar_client(policy=_local(port)) as client, pytest.raises(NetworkError) as failed:
        faces.fetch_avatar(f"http://127.0.0.1:{port}/slow.png", client)
    assert isinstance(failed.value, guard.DeadlineExceeded)
    assert time.monotonic() - started < 8  # far less than the drip's ten seconds


def test_a_missing_avatar_is_not_found(serve) -> None:
    port = serve(lambda r: answer(r, b"{}", status=404))
    with faces.avatar_client(policy=_local(port)) as client, pytest.raises(NotFound):
        faces.fetch_avatar(f"http://127.0.0.1:{port}/gone.png", client)


def test_without_the_private_setting_a_local_avatar_is_never_fetched() -> None:
    stubs = Stubs()
    with faces.avatar_client(policy=stubs.policy()) as client, pytest.raises(guard.AddressRefused):
        faces.fetch_avatar("https://127.0.0.1/a.png", client)
    assert stubs.connections == []


@pytest.mark.parametrize("url", ["https://mock.local/a.svg", "https://cdn.example/a.png"])
def test_special_use_names_never_reach_the_resolver(url: str) -> None:
    """Names no public server can have (RFC 6761): refused before any DNS query."""
    stubs = Stubs(answers={"cdn.example": [[PUBLIC]], "mock.local": [[PUBLIC]]})
    with faces.avatar_client(policy=stubs.policy()) as client, pytest.raises(guard.AddressRefused):
        faces.fetch_avatar(url, client)
    assert stubs.lookups == []


def test_a_redirect_to_a_special_use_name_is_refused_before_dns(serve) -> None:
    port = serve(lambda r: answer(r, b"", status=302, headers={"Location": "http://x.example/"}))
    stubs = Stubs(answers={"x.example": [[PUBLIC]]})
    client = faces.avatar_client(policy=guard.Policy(allow_private=True, resolver=stubs.resolve))
    with client, pytest.raises(guard.AddressRefused):
        faces.fetch_avatar(f"http://127.0.0.1:{port}/a.png", client)
    assert stubs.lookups == []


def test_a_fediverse_profile_on_a_special_use_name_is_not_asked() -> None:
    stubs = Stubs()
    # its own hooks, over a recording resolver
    with faces.MastodonLookup(faces._client(stubs.policy())) as lookup:
        with pytest.raises(guard.AddressRefused):
            lookup.lookup("dave@remote.example")
        lookup.client.close()
    assert stubs.lookups == []
