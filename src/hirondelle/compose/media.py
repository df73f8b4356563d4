"""Which of a post's media files go along, and making images small enough.

A post on either network carries up to four images or one video, never both.
X posts can mix them: the photos win (they are usually the point of the post),
and what is left out is counted so the person can be told. Animated GIFs are
stored in the archive as mp4 files: they travel as video. Media that belongs to
another post (a re-share of someone's picture) is not republished.

Images over the network's size limit are re-encoded as JPEG, keeping their
aspect ratio, turned upright first, and without their EXIF block (it can hold
where and when a photo was taken). The archive has no alt text; none is made up.
"""

from __future__ import annotations

import io
import mimetypes
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from hirondelle.archive.records import Media, MediaKind
from hirondelle.compose.errors import MediaError
from hirondelle.compose.limits import Limits
from hirondelle.networks.base import MediaUpload

__all__ = ["MediaChoice", "MediaRef", "fit_image", "pick_media", "upload_for"]

_MIME = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}
_QUALITIES = (85, 75, 65, 55)
_SHRINK = 0.8
_MIN_SIDE = 64
#: Refuse images that would take more memory than this to decode.
_MAX_PIXELS = 100_000_000


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A file to attach: its member name inside the archive, and what it is."""

    path: str
    kind: MediaKind  # PHOTO or VIDEO (an animated GIF travels as its mp4)
    mime_type: str


@dataclass(frozen=True, slots=True)
class MediaChoice:
    attach: tuple[MediaRef, ...] = ()
    dropped: int = 0  # files of the post that cannot go along (over the count, absent, others')


def _mime(path: str, kind: MediaKind) -> str:
    dot = path.rfind(".")
    extension = path[dot:].lower() if dot >= 0 else ""
    known = _MIME.get(extension) or mimetypes.guess_type(path)[0]
    if known:
        return known
    return "video/mp4" if kind is not MediaKind.PHOTO else "image/jpeg"


def pick_media(post_id: str, media: Sequence[Media], limits: Limits) -> MediaChoice:
    """The files one post takes along on a network, in the post's order."""
    photos: list[MediaRef] = []
    videos: list[MediaRef] = []
    for item in media:
        if item.path is None or (item.source_post_id and item.source_post_id != post_id):
            continue
        mime = _mime(item.path, item.kind)
        if item.kind is MediaKind.PHOTO or (mime.startswith("image/") and mime != "image/gif"):
            photos.append(MediaRef(item.path, MediaKind.PHOTO, mime))
        else:
            videos.append(MediaRef(item.path, MediaKind.VIDEO, mime))
    attach = photos[: limits.max_images] if photos else videos[: limits.max_videos]
    return MediaChoice(tuple(attach), len(media) - len(attach))


def _sniff(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def fit_image(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """The image itself if it is small enough, else a JPEG re-encoding that is.

    Returns (bytes, MIME type). Quality goes down first, then the size, by
    steps of 20 %, keeping the aspect ratio.
    """
    if len(data) <= max_bytes:
        return data, _sniff(data) or "application/octet-stream"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.width * image.height > _MAX_PIXELS:
                raise MediaError(
                    f"image of {image.width}×{image.height} pixels is too large to re-encode"
                )
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning) as error:
        raise MediaError(f"cannot read this image to make it smaller: {error}") from None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    icc = image.info.get("icc_profile")
    while True:
        for quality in _QUALITIES:
            out = io.BytesIO()
            # No `exif=` argument: Pillow writes no EXIF block.
            image.save(out, "JPEG", quality=quality, optimize=True, icc_profile=icc)
            if out.tell() <= max_bytes:
                return out.getvalue(), "image/jpeg"
        width, height = image.size
        if min(width, height) * _SHRINK < _MIN_SIDE:
            raise MediaError(
                f"cannot make this image smaller than {max_bytes:,} bytes without ruining it"
            )
        size = (max(1, round(width * _SHRINK)), max(1, round(height * _SHRINK)))
        image = image.resize(size, Image.Resampling.LANCZOS)


def upload_for(
    ref: MediaRef, data: bytes, limits: Limits, *, sensitive: bool = False
) -> MediaUpload:
    """What the adapter uploads for one file: images made to fit, no alt text."""
    if ref.kind is MediaKind.PHOTO:
        data, mime = fit_image(data, limits.max_image_bytes)
        if mime == "application/octet-stream":
            mime = ref.mime_type
        return MediaUpload(data=data, mime_type=mime, alt="", sensitive=sensitive)
    if len(data) > limits.max_video_bytes:
        raise MediaError(
            f"video {ref.path} is {len(data):,} bytes; {limits.network.value} takes at most "
            f"{limits.max_video_bytes:,}: it is left out"
        )
    return MediaUpload(data=data, mime_type=ref.mime_type, alt="", sensitive=sensitive)
