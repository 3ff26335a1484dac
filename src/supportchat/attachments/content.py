"""What an upload is, read from its bytes, and what the desk stores of it.

:func:`examine` decides, in this order: a name (made safe), an extension on
the allow-list, content the sniffing library (``filetype``) recognises as
that extension's type (text, which has no signature, must be UTF-8 without
NUL bytes), a declared type that agrees, and for a PDF no active content.
Images then go through Pillow (:func:`reencode`): decoded under a pixel
cap, turned upright by their EXIF orientation, and encoded anew with no
metadata at all (EXIF, GPS, XMP, ICC, comments); HEIC/HEIF becomes JPEG.
Any refusal is an :class:`~.errors.InvalidFile` naming the reason.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidFile
from .filetypes import UNDECLARED, FileType, allowed_extensions, by_extension

__all__ = ["Examined", "Reencoded", "clean_filename", "examine", "reencode"]

#: Bytes the sniffer reads (``filetype`` looks at the first 8 KiB at most).
_HEAD = 8192
_MAX_NAME = 200
#: Control and format characters (NUL, RTL overrides, zero-width…) never stay in a name.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}
#: PDF names that run code or open other things when the document is viewed.
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|SubmitForm|ImportData)\b")
THUMBNAIL_BOX = (320, 320)
#: The formats Pillow must find for each accepted image type (it decodes nothing else).
_PILLOW_FORMATS = {
    "image/jpeg": ("JPEG",),
    "image/png": ("PNG",),
    "image/gif": ("GIF",),
    "image/webp": ("WEBP",),
    "image/heic": ("HEIF",),
}


def clean_filename(raw: str | None) -> str:
    """The last path component of ``raw``, NFC, without control or format characters, at most 200 characters.

    The extension survives truncation; an empty result becomes ``file``.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)
    name = re.split(r"[/\\]", name)[-1].strip().lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if len(name) > _MAX_NAME:
        keep = _MAX_NAME - len(extension) - 1
        name = (stem[: max(keep, 1)] + "." + extension[: _MAX_NAME - 2]) if dot else name[:_MAX_NAME]
    return name or "file"


def extension_of(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return extension.lower() if dot else ""


@dataclass(frozen=True, slots=True)
class Examined:
    """An upload that passed every check: what it is and what it will be called."""

    filename: str
    file_type: FileType


def _declared(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def examine(path: Path, size: int, raw_name: str | None, declared_type: str | None) -> Examined:
    """Check the upload at ``path`` (``size`` bytes) against its name and declared type; raise :class:`InvalidFile`."""
    filename = clean_filename(raw_name)
    extension = extension_of(filename)
    if size == 0:
        raise InvalidFile("empty", "the file is empty")
    file_type = by_extension(extension)
    if file_type is None:
        raise InvalidFile(
            "extension_not_allowed",
            f"files ending in {'.' + extension if extension else 'no extension'} are not accepted",
            extension=extension,
            allowed=allowed_extensions(),
        )
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    detected = _filetype().guess_mime(head)
    if file_type.is_text:
        if detected is not None:
            raise InvalidFile("content_mismatch", f"the content is {detected}, not text", detected=detected)
        _check_text(path)
    elif detected not in file_type.sniffed:
        raise InvalidFile(
            "content_mismatch",
            f"the content is {detected or 'of no known type'}, not {file_type.content_type} as .{extension} says",
            detected=detected,
            expected=file_type.content_type,
        )
    declared = _declared(declared_type)
    if declared not in UNDECLARED and declared not in file_type.declared:
        raise InvalidFile(
            "declared_type_mismatch",
            f"declared as {declared[:100]}, but the content is {file_type.content_type}",
            declared=declared[:100],
            detected=file_type.content_type,
        )
    if file_type.content_type == "application/pdf":
        _check_pdf(path)
    return Examined(filename, file_type)


def _filetype() -> Any:
    try:
        import filetype
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("attachments need filetype: pip install 'supportchat[attachments]'") from exc
    return filetype


def _check_text(path: Path) -> None:
    with path.open("rb") as handle:
        incremental = codecs.getincrementaldecoder("utf-8-sig")()
        while chunk := handle.read(65536):
            if b"\x00" in chunk:
                raise InvalidFile("not_text", "a text file must not contain NUL bytes")
            try:
                incremental.decode(chunk)
            except UnicodeDecodeError:
                raise InvalidFile("not_text", "a text file must be UTF-8") from None
        try:
            incremental.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidFile("not_text", "a text file must be UTF-8") from None


def _check_pdf(path: Path) -> None:
    # A scan of the raw bytes: names inside compressed object streams escape it, which is
    # why PDFs are also served sandboxed (spec §14's headers), never trusted for this alone.
    overlap = b""
    with path.open("rb") as handle:
        while chunk := handle.read(65536):
            found = _PDF_ACTIVE.search(overlap + chunk)
            if found:
                name = found.group(1).decode()
                raise InvalidFile("pdf_active_content", f"PDFs with /{name} are not accepted", found=name)
            overlap = chunk[-32:]


@dataclass(frozen=True, slots=True)
class Reencoded:
    """An image as the desk keeps it: new bytes without metadata, upright, and a thumbnail."""

    data: bytes
    content_type: str
    filename: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: str


def _pillow() -> Any:
    try:
        import pillow_heif
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("attachments need Pillow and pillow-heif: pip install 'supportchat[attachments]'") from exc
    pillow_heif.register_heif_opener()
    return Image


def reencode(path: Path, examined: Examined, max_pixels: int) -> Reencoded:
    """Decode the image at ``path`` and encode it anew (see the module's docstring); raise :class:`InvalidFile`."""
    image_module = _pillow()
    from PIL import ImageOps, ImageSequence

    content_type = examined.file_type.content_type
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_module.DecompressionBombWarning)
            with image_module.open(path, formats=_PILLOW_FORMATS[content_type]) as image:
                frames = getattr(image, "n_frames", 1)
                pixels = image.width * image.height * frames
                if pixels > max_pixels:
                    raise InvalidFile(
                        "too_many_pixels",
                        f"the image has {pixels:,} pixels (frames counted), more than {max_pixels:,}",
                        pixels=pixels,
                        limit=max_pixels,
                    )
                if frames > 1 and content_type in ("image/gif", "image/webp"):
                    return _animated(image, ImageSequence, examined, content_type)
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                return _still(upright, examined, content_type)
    except InvalidFile:
        raise
    except (image_module.DecompressionBombError, image_module.DecompressionBombWarning):
        # Pillow's own guard, met before ours for images far above any cap.
        message = f"the image has more than {max_pixels:,} pixels"
        raise InvalidFile("too_many_pixels", message, limit=max_pixels) from None
    except (OSError, ValueError, SyntaxError, Warning, EOFError) as exc:
        raise InvalidFile("unreadable_image", f"the image cannot be decoded ({type(exc).__name__})") from None


def _output(content_type: str) -> tuple[str, str]:
    """The Pillow format and the type an image is kept as (HEIC/HEIF becomes JPEG)."""
    return {
        "image/jpeg": ("JPEG", "image/jpeg"),
        "image/heic": ("JPEG", "image/jpeg"),
        "image/png": ("PNG", "image/png"),
        "image/gif": ("GIF", "image/gif"),
        "image/webp": ("WEBP", "image/webp"),
    }[content_type]


def _bare(image: Any) -> Any:
    """A copy of the pixels with nothing else: no EXIF, XMP, ICC profile, comment or other info."""
    bare = image.copy()
    bare.info.clear()
    getexif = getattr(bare, "getexif", None)
    if getexif is not None:
        getexif().clear()
    return bare


def _flatten(image: Any) -> Any:
    """RGB for JPEG: transparency over white, other modes converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        from PIL import Image

        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def _encode(image: Any, format_name: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format_name, **options)
    return out.getvalue()


def _renamed(filename: str, content_type: str) -> str:
    if content_type != "image/jpeg" or extension_of(filename) in ("jpg", "jpeg", "jpe", "jfif"):
        return filename
    stem, dot, _ = filename.rpartition(".")
    return (stem if dot else filename) + ".jpg"


def _thumbnail(image: Any) -> tuple[bytes, str]:
    thumb = image.copy()
    thumb.thumbnail(THUMBNAIL_BOX)
    has_alpha = thumb.mode in ("RGBA", "LA", "PA") or (thumb.mode == "P" and "transparency" in thumb.info)
    if has_alpha:
        return _encode(_bare(thumb.convert("RGBA")), "PNG"), "image/png"
    return _encode(_bare(_flatten(thumb)), "JPEG", quality=85), "image/jpeg"


def _still(image: Any, examined: Examined, content_type: str) -> Reencoded:
    format_name, kept_type = _output(content_type)
    bare = _bare(_flatten(image) if format_name == "JPEG" else image)
    if format_name == "WEBP" and bare.mode not in ("RGB", "RGBA"):
        bare = bare.convert("RGBA")
    options: dict[str, Any] = {"quality": 90} if format_name in ("JPEG", "WEBP") else {}
    data = _encode(bare, format_name, **options)
    thumbnail, thumbnail_type = _thumbnail(bare)
    return Reencoded(
        data, kept_type, _renamed(examined.filename, kept_type), bare.width, bare.height, thumbnail, thumbnail_type
    )


def _animated(image: Any, sequence: Any, examined: Examined, content_type: str) -> Reencoded:
    format_name, kept_type = _output(content_type)
    durations = []
    frames = []
    for frame in sequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        frames.append(_bare(frame.convert("RGBA")))
    loop = int(image.info.get("loop", 0))
    out = io.BytesIO()
    frames[0].save(
        out, format=format_name, save_all=True, append_images=frames[1:], duration=durations, loop=loop, disposal=2
    )
    thumbnail, thumbnail_type = _thumbnail(frames[0])
    first = frames[0]
    return Reencoded(out.getvalue(), kept_type, examined.filename, first.width, first.height, thumbnail, thumbnail_type)
