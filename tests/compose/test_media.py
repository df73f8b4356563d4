"""Media selection and image re-encoding."""

from __future__ import annotations

import io
import os
from dataclasses import replace

import pytest
from PIL import Image

from hirondelle.archive.records import Media, MediaKind
from hirondelle.compose import (
    BLUESKY,
    MASTODON,
    MediaError,
    MediaRef,
    fit_image,
    pick_media,
    upload_for,
)


def photo(name: str, source: str | None = None) -> Media:
    return Media(MediaKind.PHOTO, f"https://pbs.twimg.com/media/{name}", f"1-{name}", source)


def noisy_jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    """A photo that compresses badly, with EXIF (orientation, camera, GPS)."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPS: somewhere in Paris
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def test_pick_up_to_four_photos_and_prefer_them_to_video() -> None:
    media = [photo(f"{i}.jpg") for i in range(5)]
    media.append(Media(MediaKind.VIDEO, "https://video.twimg.com/v.mp4", "1-v.mp4"))
    choice = pick_media("1", media, BLUESKY)
    assert [m.path for m in choice.attach] == ["1-0.jpg", "1-1.jpg", "1-2.jpg", "1-3.jpg"]
    assert choice.dropped == 2
    assert all(m.mime_type == "image/jpeg" for m in choice.attach)


def test_gif_travels_as_the_archive_mp4() -> None:
    gif = Media(MediaKind.GIF, "https://video.twimg.com/tweet_video/abc.mp4", "1-abc.mp4")
    choice = pick_media("1", [gif], MASTODON)
    assert choice.attach == (MediaRef("1-abc.mp4", MediaKind.VIDEO, "video/mp4"),)


def test_absent_files_and_others_media_are_left_out() -> None:
    media = [photo("a.png"), Media(MediaKind.PHOTO, "u", None), photo("b.jpg", source="777")]
    choice = pick_media("1", media, BLUESKY)
    assert [(m.path, m.mime_type) for m in choice.attach] == [("1-a.png", "image/png")]
    assert choice.dropped == 2
    assert pick_media("1", [], BLUESKY).dropped == 0


def test_small_images_are_untouched() -> None:
    data = noisy_jpeg(20, 10)
    assert fit_image(data, 1_000_000) == (data, "image/jpeg")


def test_large_image_is_reencoded_upright_without_exif() -> None:
    data = noisy_jpeg(600, 400, orientation=6)  # stored sideways: shown 400 × 600
    limit = 60_000
    assert len(data) > limit
    assert b"PhoneMaker" in data
    fitted, mime = fit_image(data, limit)
    assert mime == "image/jpeg"
    assert len(fitted) <= limit
    with Image.open(io.BytesIO(fitted)) as image:
        assert not image.getexif()
        width, height = image.size
    assert b"PhoneMaker" not in fitted
    assert height > width  # turned upright
    assert abs(width / height - 400 / 600) < 0.01  # aspect kept


def test_transparent_png_becomes_a_jpeg_on_white() -> None:
    image = Image.frombytes("RGBA", (300, 300), os.urandom(300 * 300 * 4))
    out = io.BytesIO()
    image.save(out, "PNG")
    fitted, mime = fit_image(out.getvalue(), 100_000)
    assert mime == "image/jpeg"
    assert len(fitted) <= 100_000


def test_unreadable_image_is_a_media_error() -> None:
    with pytest.raises(MediaError, match="cannot read"):
        fit_image(b"not an image at all" * 10, 50)


def test_upload_for_photo_and_video() -> None:
    data = noisy_jpeg(300, 200)
    limits = replace(BLUESKY, max_image_bytes=30_000, max_video_bytes=10)
    ref = MediaRef("1-a.jpg", MediaKind.PHOTO, "image/jpeg")
    upload = upload_for(ref, data, limits, sensitive=True)
    assert len(upload.data) <= 30_000
    assert upload.alt == ""  # the archive has none; never invent it
    assert upload.sensitive
    video = MediaRef("1-v.mp4", MediaKind.VIDEO, "video/mp4")
    assert upload_for(video, b"tiny", replace(limits, max_video_bytes=100)).mime_type == "video/mp4"
    with pytest.raises(MediaError, match="left out"):
        upload_for(video, b"x" * 11, limits)
