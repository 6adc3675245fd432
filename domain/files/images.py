"""Image clean-up with Pillow: orientation applied, metadata dropped, thumbnail made.

Every stored image is decoded and re-encoded from its pixels only, so EXIF
(GPS position, camera serial, date), XMP, IPTC and comments are gone. Runs in a
worker thread (CPU-bound); raises :class:`ImageRejected` with an error code.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF (iPhone photos) through libheif; optional at run time
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - the dependency is declared
    HEIF_SUPPORTED = False

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
# what each input is stored as
_OUTPUT = {"image/jpeg": "image/jpeg", "image/png": "image/png", "image/webp": "image/webp", "image/heic": "image/jpeg"}


class ImageRejected(Exception):
    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int
    thumbnail: bytes | None  # JPEG


def _flatten(im: Image.Image) -> Image.Image:
    """RGB, transparent areas on white (JPEG has no alpha)."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im.convert("RGB") if im.mode != "RGB" else im


def _normalise_mode(im: Image.Image, out_type: str) -> Image.Image:
    if out_type == "image/jpeg":
        return im if im.mode in ("RGB", "L") else _flatten(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if has_alpha:
        return im.convert("RGBA") if im.mode != "RGBA" else im
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def clean_image(source: BinaryIO, content_type: str, *, max_pixels: int, thumbnail_side: int | None) -> CleanImage:
    fmt = _PIL_FORMATS[content_type]
    if content_type == "image/heic" and not HEIF_SUPPORTED:  # pragma: no cover
        raise ImageRejected("IMAGE_UNREADABLE")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=[fmt]) as opened:
                width, height = opened.size
                if width * height > max_pixels:
                    raise ImageRejected("IMAGE_TOO_MANY_PIXELS", max=f"{max_pixels / 1_000_000:g}")
                opened.load()
                upright = ImageOps.exif_transpose(opened)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected("IMAGE_TOO_MANY_PIXELS", max=f"{max_pixels / 1_000_000:g}") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRejected("IMAGE_UNREADABLE") from exc

    out_type = _OUTPUT[content_type]
    pixels = _normalise_mode(upright, out_type)
    # a brand-new image from the raw pixels: nothing of the original's info/EXIF/XMP/comment survives
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    buffer = io.BytesIO()
    if out_type == "image/jpeg":
        clean.save(buffer, "JPEG", quality=90, optimize=True)
    elif out_type == "image/png":
        clean.save(buffer, "PNG", optimize=True)
    else:
        clean.save(buffer, "WEBP", quality=90)

    thumbnail = None
    if thumbnail_side:
        small = _flatten(clean).copy()
        small.thumbnail((thumbnail_side, thumbnail_side), Image.Resampling.LANCZOS)
        tbuf = io.BytesIO()
        small.save(tbuf, "JPEG", quality=80, optimize=True)
        thumbnail = tbuf.getvalue()
    return CleanImage(buffer.getvalue(), out_type, clean.width, clean.height, thumbnail)
