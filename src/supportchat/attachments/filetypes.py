"""The allow-list of spec §14: which files the desk accepts, by content, declared type and extension."""

from __future__ import annotations

from dataclasses import dataclass

from .base import AttachmentKind

__all__ = ["ALLOWED", "UNDECLARED", "FileType", "allowed_extensions", "by_extension", "extension_for"]

#: What a client sends when it does not know the type: then only the content and the extension decide.
UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."


@dataclass(frozen=True, slots=True)
class FileType:
    """One accepted type: the type it is served as, its extensions, and what a sniffer and a client call it."""

    content_type: str
    kind: AttachmentKind
    extensions: tuple[str, ...]
    #: What the sniffing library reports for it (empty: text, which has no signature).
    sniffed: frozenset[str]
    #: Declared types that agree with it (aliases clients use).
    declared: frozenset[str]

    @property
    def is_text(self) -> bool:
        return not self.sniffed


def _type(content_type: str, kind: AttachmentKind, extensions: str, *aliases: str, sniffed: bool = True) -> FileType:
    names = frozenset({content_type, *aliases})
    return FileType(content_type, kind, tuple(extensions.split()), names if sniffed else frozenset(), names)


_IMAGE, _FILE = AttachmentKind.IMAGE, AttachmentKind.FILE

ALLOWED: tuple[FileType, ...] = (
    _type("image/jpeg", _IMAGE, "jpg jpeg jpe jfif", "image/jpg", "image/pjpeg"),
    _type("image/png", _IMAGE, "png", "image/apng", "image/x-png"),
    _type("image/gif", _IMAGE, "gif"),
    _type("image/webp", _IMAGE, "webp"),
    _type("image/heic", _IMAGE, "heic heif", "image/heif", "image/heic-sequence", "image/heif-sequence"),
    _type("application/pdf", _FILE, "pdf", "application/x-pdf"),
    _type("text/plain", _FILE, "txt text log", sniffed=False),
    _type(
        "text/csv",
        _FILE,
        "csv",
        "application/csv",
        "text/x-csv",
        "text/comma-separated-values",
        "text/plain",
        # What Windows browsers declare for .csv when Excel is installed.
        "application/vnd.ms-excel",
        sniffed=False,
    ),
    _type("application/msword", _FILE, "doc"),
    _type("application/vnd.ms-excel", _FILE, "xls"),
    _type("application/vnd.ms-powerpoint", _FILE, "ppt"),
    _type(_OOXML + "wordprocessingml.document", _FILE, "docx"),
    _type(_OOXML + "spreadsheetml.sheet", _FILE, "xlsx"),
    _type(_OOXML + "presentationml.presentation", _FILE, "pptx"),
    _type(_ODF + "text", _FILE, "odt"),
    _type(_ODF + "spreadsheet", _FILE, "ods"),
    _type(_ODF + "presentation", _FILE, "odp"),
)

_BY_EXTENSION = {extension: t for t in ALLOWED for extension in t.extensions}


def by_extension(extension: str) -> FileType | None:
    """The accepted type a (lower-case, dot-less) extension names, if any."""
    return _BY_EXTENSION.get(extension)


def extension_for(declared_type: str | None) -> str | None:
    """The usual extension of an accepted type a sender declared (``image/jpg`` → ``jpg``), if it names one."""
    declared = (declared_type or "").split(";")[0].strip().lower()
    for file_type in ALLOWED:
        if file_type.content_type == declared:
            return file_type.extensions[0]
    for file_type in ALLOWED:
        if declared in file_type.declared:
            return file_type.extensions[0]
    return None


def allowed_extensions() -> list[str]:
    return sorted(_BY_EXTENSION)
