"""The hostile corpus: at least 40 files, each refused with its status, code and reason, or served safely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import files

MiB = 1024 * 1024
_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
_HTML = b"<!doctype html><html><body><script>alert(document.domain)</script><img src=x onerror=alert(3)></body></html>"
_OOXML = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Hostile:
    name: str
    filename: str | None
    make: Callable[[], bytes]
    declared: str | None
    #: ``(status, code, reason)`` of the refusal, or ``None``: stored and served safely.
    refused: tuple[int, str, str | None] | None = None
    #: For a stored file: the name it must be kept under.
    kept_as: str | None = None


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _invalid(reason: str) -> tuple[int, str, str]:
    return (422, "invalid_file", reason)


CORPUS: tuple[Hostile, ...] = (
    Hostile("svg with script", "logo.svg", _const(_SVG), "image/svg+xml", _invalid("extension_not_allowed")),
    Hostile("svg named png", "logo.png", _const(_SVG), "image/png", _invalid("content_mismatch")),
    Hostile("svgz", "logo.svgz", _const(_SVG), "image/svg+xml", _invalid("extension_not_allowed")),
    Hostile(
        "svg named txt, declared svg", "logo.txt", _const(_SVG), "image/svg+xml", _invalid("declared_type_mismatch")
    ),
    Hostile("html renamed png", "captura.png", _const(_HTML), "image/png", _invalid("content_mismatch")),
    Hostile("html renamed jpg", "captura.jpg", _const(_HTML), "image/jpeg", _invalid("content_mismatch")),
    Hostile("html", "pagina.html", _const(_HTML), "text/html", _invalid("extension_not_allowed")),
    Hostile("htm", "pagina.htm", _const(_HTML), "text/html", _invalid("extension_not_allowed")),
    Hostile("xhtml", "pagina.xhtml", _const(_HTML), "application/xhtml+xml", _invalid("extension_not_allowed")),
    Hostile(
        "html named txt, declared html", "nota.txt", _const(_HTML), "text/html", _invalid("declared_type_mismatch")
    ),
    Hostile("html as plain text", "nota.txt", _const(_HTML), "text/plain", kept_as="nota.txt"),
    Hostile("html as csv", "datos.csv", _const(_HTML), "text/csv", kept_as="datos.csv"),
    Hostile("csv formula", "datos.csv", _const(b'=HYPERLINK("http://evil","x"),1\n'), "text/csv", kept_as="datos.csv"),
    Hostile("javascript", "app.js", _const(b"alert(1)"), "application/javascript", _invalid("extension_not_allowed")),
    Hostile("polyglot gif/js", "gato.gif", files.gif_js_polyglot, "image/gif", kept_as="gato.gif"),
    Hostile("polyglot gif as js", "gato.js", files.gif_js_polyglot, "image/gif", _invalid("extension_not_allowed")),
    Hostile(
        "pdf with javascript",
        "factura.pdf",
        lambda: files.pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        "application/pdf",
        _invalid("pdf_active_content"),
    ),
    Hostile(
        "pdf with /JS only",
        "factura.pdf",
        lambda: files.pdf("/AA << /O << /JS (app.alert(1)) >> >>"),
        "application/pdf",
        _invalid("pdf_active_content"),
    ),
    Hostile(
        "pdf with launch",
        "factura.pdf",
        lambda: files.pdf("/OpenAction << /S /Launch /F (cmd.exe) >>"),
        "application/pdf",
        _invalid("pdf_active_content"),
    ),
    Hostile("plain pdf", "factura.pdf", files.pdf, "application/pdf", kept_as="factura.pdf"),
    Hostile("zip bomb", "fotos.zip", files.zip_bomb, "application/zip", _invalid("extension_not_allowed")),
    Hostile("zip bomb named docx", "contrato.docx", files.zip_bomb, _OOXML, _invalid("content_mismatch")),
    Hostile("png decompression bomb", "bomba.png", files.png_bomb, "image/png", _invalid("too_many_pixels")),
    Hostile("gif decompression bomb", "bomba.gif", files.gif_bomb, "image/gif", _invalid("too_many_pixels")),
    Hostile(
        "truncated jpeg", "foto.jpg", lambda: files.jpeg((400, 300))[:600], "image/jpeg", _invalid("unreadable_image")
    ),
    Hostile(
        "truncated png",
        "foto.png",
        lambda: files.png((400, 300), "RGB")[:80],
        "image/png",
        _invalid("unreadable_image"),
    ),
    Hostile("extension, type and bytes disagree", "foto.pdf", files.jpeg, "image/png", _invalid("content_mismatch")),
    Hostile("jpeg declared pdf", "foto.jpg", files.jpeg, "application/pdf", _invalid("declared_type_mismatch")),
    Hostile("png named jpg", "foto.jpg", lambda: files.png(), "image/jpeg", _invalid("content_mismatch")),
    Hostile(
        "exe named pdf",
        "factura.pdf",
        _const(b"MZ\x90\x00" + b"\0" * 60 + b"PE\0\0" + b"\0" * 200),
        "application/pdf",
        _invalid("content_mismatch"),
    ),
    Hostile(
        "elf named txt",
        "nota.txt",
        _const(b"\x7fELF\x02\x01\x01" + b"\0" * 100),
        "text/plain",
        _invalid("content_mismatch"),
    ),
    Hostile(
        "exe", "setup.exe", _const(b"MZ" + b"\0" * 100), "application/octet-stream", _invalid("extension_not_allowed")
    ),
    Hostile("empty text", "vacio.txt", _const(b""), "text/plain", _invalid("empty")),
    Hostile("empty png", "vacio.png", _const(b""), "image/png", _invalid("empty")),
    Hostile(
        "10 MiB + 1 byte", "grande.txt", _const(b"a" * (10 * MiB + 1)), "text/plain", (413, "payload_too_large", None)
    ),
    Hostile("exactly 10 MiB", "grande.txt", _const(b"a" * (10 * MiB)), "text/plain", kept_as="grande.txt"),
    Hostile("text with NUL", "nota.txt", _const(b"hola\x00mundo"), "text/plain", _invalid("not_text")),
    Hostile("text not utf-8", "nota.txt", _const("año señal".encode("latin-1")), "text/plain", _invalid("not_text")),
    Hostile("path traversal", "../../../etc/passwd.png", files.png, "image/png", kept_as="passwd.png"),
    Hostile(
        "windows path traversal", "..\\..\\windows\\win.ini.txt", _const(b"[x]"), "text/plain", kept_as="win.ini.txt"
    ),
    Hostile("NUL in the name", "foto.png\x00.html", files.png, "image/png", _invalid("extension_not_allowed")),
    Hostile(
        "RTL override to exe",
        "factura\u202efdp.exe",
        _const(b"MZ"),
        "application/pdf",
        _invalid("extension_not_allowed"),
    ),
    Hostile("RTL override kept png", "foto\u202egnp.png", files.png, "image/png", kept_as="fotognp.png"),
    Hostile("1,000 characters", "a" * 1000 + ".png", files.png, "image/png", kept_as="a" * 196 + ".png"),
    Hostile("no extension", "LEEME", _const(b"hola"), "text/plain", _invalid("extension_not_allowed")),
    Hostile("double extension", "foto.png.exe", files.png, "image/png", _invalid("extension_not_allowed")),
    Hostile("dot file", ".htaccess", _const(b"x"), "text/plain", _invalid("extension_not_allowed")),
    Hostile("jpeg with markup comment", "c.jpg", files.jpeg_with_markup_comment, "image/jpeg", kept_as="c.jpg"),
    Hostile("png with markup text chunk", "c.png", files.png_with_markup_text, "image/png", kept_as="c.png"),
    Hostile("upper-case jpeg", "FOTO.JPG", files.jpeg, "image/jpeg", kept_as="FOTO.JPG"),
    Hostile("heic", "IMG_0001.HEIC", files.heic_photo, "image/heic", kept_as="IMG_0001.jpg"),
    Hostile("docx", "contrato.docx", files.docx, _OOXML, kept_as="contrato.docx"),
)

assert len(CORPUS) >= 40, len(CORPUS)
