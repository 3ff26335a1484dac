"""Files for the attachment tests, made here with Pillow, pillow-heif and zipfile (no binary fixtures)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def encode(image: Image.Image, format_name: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format_name, **options)
    return out.getvalue()


def jpeg(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    return encode(Image.new("RGB", size, color), "JPEG")


def png(size: tuple[int, int] = (32, 32), mode: str = "RGBA") -> bytes:
    return encode(Image.new(mode, size, (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200)), "PNG")


def gif() -> bytes:
    return encode(Image.new("P", (16, 16), 3), "GIF")


def webp_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    return encode(Image.new("RGB", (40, 30), (1, 2, 3)), "WEBP", exif=exif.tobytes())


def phone_photo(orientation: int = 6) -> bytes:
    """A landscape 200×100 JPEG with a red top-left corner, EXIF orientation and a GPS position."""
    image = Image.new("RGB", (200, 100), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x0110] = "Pixel 8"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (40.0, 25.0, 1.5), 3: "W", 4: (3.0, 42.0, 0.0)})
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def heic_photo() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 25.0, 1.5)})
    return encode(Image.new("RGB", (120, 80), (20, 160, 40)), "HEIF", exif=exif.tobytes())


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def zip_bomb() -> bytes:
    """A 200 KiB archive that inflates to 200 MiB (the desk never inflates it)."""
    out = io.BytesIO()
    block = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(200):
            member.write(block)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 50_000) -> bytes:
    """A PNG declaring ``side``×``side`` pixels (2.5 gigapixels) in a few hundred bytes."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + _chunk(b"IEND", b"")
    )


def gif_bomb() -> bytes:
    """A GIF whose screen and image claim 65535×65535 pixels."""
    return (
        b"GIF89a"
        + struct.pack("<HH", 65535, 65535)
        + b"\x80\x00\x00"
        + b"\0" * 6
        + b",\0\0\0\0"
        + struct.pack("<HH", 65535, 65535)
        + b"\0\x02\x02\x44\x01\x00;"
    )


def pdf(body: str = "") -> bytes:
    return (
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R " + body + ">> endobj\n"
        "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
        "trailer << /Root 1 0 R >>\n%%EOF\n"
    ).encode()


def gif_js_polyglot() -> bytes:
    """A GIF whose bytes also run as JavaScript (``GIF89a=…`` is an assignment)."""
    image = gif()
    return b"GIF89a/*" + image[8:] + b"*/=1;alert(document.domain);//"


def jpeg_with_markup_comment() -> bytes:
    return encode(Image.new("RGB", (20, 20)), "JPEG", comment=b"<script>alert(1)</script>")


def png_with_markup_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    return encode(Image.new("RGB", (20, 20)), "PNG", pnginfo=info)
