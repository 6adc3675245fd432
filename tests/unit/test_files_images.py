"""Image clean-up with real Pillow encoders: modes, formats, metadata, bombs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from domain.files.images import ImageRejected, clean_image
from tests.files_helpers import GPS_IFD, bomb_png

MAX = 40_000_000


def encode(image: Image.Image, fmt: str, **params) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    buffer.seek(0)
    return buffer


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0)}
    return exif.tobytes()


def test_webp_loses_exif_and_xmp():
    source = encode(Image.new("RGB", (50, 40), (9, 9, 9)), "WEBP", exif=gps_exif(), xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    assert Image.open(source).getexif().get_ifd(GPS_IFD)
    source.seek(0)
    cleaned = clean_image(source, "image/webp", max_pixels=MAX, thumbnail_side=None)
    assert cleaned.content_type == "image/webp" and cleaned.thumbnail is None
    image = Image.open(io.BytesIO(cleaned.data))
    assert dict(image.getexif()) == {} and "xmp" not in image.info
    assert b"secret" not in cleaned.data


def test_transparent_png_keeps_alpha_and_thumbnail_is_flattened_on_white():
    image = Image.new("RGBA", (640, 320), (255, 0, 0, 0))  # fully transparent
    cleaned = clean_image(encode(image, "PNG"), "image/png", max_pixels=MAX, thumbnail_side=320)
    stored = Image.open(io.BytesIO(cleaned.data))
    assert stored.mode == "RGBA" and stored.getpixel((0, 0))[3] == 0
    thumb = Image.open(io.BytesIO(cleaned.thumbnail))
    assert thumb.format == "JPEG" and thumb.size == (320, 160)
    assert min(thumb.getpixel((10, 10))) > 240  # white, not black


def test_palette_png_with_transparency_and_cmyk_jpeg_are_handled():
    palette = Image.new("P", (20, 20), 0)
    palette.info["transparency"] = 0
    cleaned = clean_image(encode(palette, "PNG", transparency=0), "image/png", max_pixels=MAX, thumbnail_side=320)
    assert Image.open(io.BytesIO(cleaned.data)).mode == "RGBA"
    cmyk = clean_image(encode(Image.new("CMYK", (30, 20)), "JPEG"), "image/jpeg", max_pixels=MAX, thumbnail_side=None)
    assert Image.open(io.BytesIO(cmyk.data)).mode == "RGB"


def test_bomb_over_our_limit_is_refused_before_decoding():
    with pytest.raises(ImageRejected) as refused:
        clean_image(io.BytesIO(bomb_png(8_000)), "image/png", max_pixels=MAX, thumbnail_side=None)
    assert refused.value.code == "IMAGE_TOO_MANY_PIXELS" and refused.value.params == {"max": "40"}


def test_bomb_over_pillows_own_limit_is_a_typed_error_too():
    # 15000 x 15000 = 225 Mpx: Pillow itself raises DecompressionBombError when opening
    with pytest.raises(ImageRejected) as refused:
        clean_image(io.BytesIO(bomb_png(15_000)), "image/png", max_pixels=10**9, thumbnail_side=None)
    assert refused.value.code == "IMAGE_TOO_MANY_PIXELS"


def test_declared_format_must_match_the_decoder():
    # bytes detected as PNG are only ever decoded by the PNG plugin
    with pytest.raises(ImageRejected) as refused:
        clean_image(encode(Image.new("RGB", (5, 5)), "GIF"), "image/png", max_pixels=MAX, thumbnail_side=None)
    assert refused.value.code == "IMAGE_UNREADABLE"
