"""The panel with attachments, in real Chromium on both adapters: thumbnails inline that enlarge,
download links for documents, uploads by the file picker, drag-and-drop and paste, and axe-core clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from supportchat.attachments import Attachments, LocalBlobStore, UrlSigner
from supportchat.attachments.feature import feature

from ..attachments import files
from ..attachments.conftest import multipart
from .axe import assert_accessible
from .browser import PanelPage, new_panel_page
from .servers import ADAPTER_NAMES, SECRET, Site, serve

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(params=ADAPTER_NAMES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    attachments = Attachments(LocalBlobStore(tmp_path / "blobs"), UrlSigner(SECRET), spool=tmp_path / "spool")
    with serve(str(request.param), features=[feature(attachments)]) as served:
        yield served


@pytest.fixture
def ui(browser: Any) -> Iterator[PanelPage]:
    page = new_panel_page(browser, "es-ES")
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()


def last_admin_message_says(page: Any, text: str) -> None:
    """Waits (the thread may be re-read meanwhile) until the newest admin message shows ``text``."""
    page.wait_for_function(
        "text => { const all = document.querySelectorAll('#messages .msg-admin');"
        " return all.length && all[all.length - 1].textContent.includes(text); }",
        arg=text,
    )


def _user_sends(site: Site, ticket_id: int, name: str, data: bytes, kind: str) -> None:
    body, media_type = multipart(name, data, kind)
    headers = site.user(21)
    uploaded = httpx.post(
        f"{site.api_url}/user/21/tickets/{ticket_id}/attachments",
        content=body,
        headers={**headers, "Content-Type": media_type},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text
    sent = httpx.post(
        f"{site.api_url}/tickets/{ticket_id}/user-message",
        json={"message": name, "attachment_id": uploaded.json()["data"]["id"]},
        headers=headers,
        timeout=30,
    )
    assert sent.status_code == 200, sent.text


def test_thumbnails_enlarge_documents_download_and_admins_upload_three_ways(site: Site, ui: PanelPage) -> None:
    from supportchat import Actor

    ticket = site.desk.create_ticket(Actor.user(21), subject="Fotos del pedido", description="Adjunto fotos")
    _user_sends(site, ticket.id, "pedido.jpg", files.phone_photo(), "image/jpeg")
    _user_sends(site, ticket.id, "factura.pdf", files.pdf(), "application/pdf")
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    page = ui.page
    page.wait_for_function(
        "() => { const i = document.querySelector('.msg-thumb img'); return i && i.naturalWidth > 0; }"
    )
    assert page.get_attribute(".msg-thumb", "aria-label") == "Ampliar pedido.jpg"
    assert page.locator(".msg-file").inner_text().startswith("Descargar factura.pdf")
    assert page.get_attribute(".msg-file", "download") == "factura.pdf"
    assert_accessible(page, "ticket with attachments")
    page.click(".msg-thumb")
    page.wait_for_function(
        "() => { const i = document.getElementById('image-viewer-img'); return i.naturalWidth > 0; }"
    )
    assert page.evaluate("document.getElementById('image-viewer').open")
    size = page.evaluate("(i => [i.naturalWidth, i.naturalHeight])(document.getElementById('image-viewer-img'))")
    assert size == [100, 200]  # upright, as the phone showed it
    assert_accessible(page, "enlarged image")
    page.click("#image-viewer-close")
    assert not page.evaluate("document.getElementById('image-viewer').open")

    def sent_messages() -> int:
        return int(page.evaluate("document.querySelectorAll('#messages .msg-admin').length"))

    def send(text: str) -> None:
        before = sent_messages()
        page.wait_for_selector("#reply-attachment-remove", state="visible")
        assert not page.is_visible("#reply-progress")  # shown while uploading, hidden once done
        page.fill("#reply-text", text)
        page.click("#reply-send")
        page.wait_for_function("n => document.querySelectorAll('#messages .msg-admin').length > n", arg=before)
        # The stream may show the message before the reply's own answer clears the attachment box.
        page.wait_for_selector("#reply-attachment-box", state="hidden", timeout=5000)

    # 1. the file picker
    assert page.is_visible("#reply-attach")
    page.set_input_files(
        "#reply-file", files=[{"name": "guia.pdf", "mimeType": "application/pdf", "buffer": files.pdf()}]
    )
    send("La guía")
    last_admin_message_says(page, "guia.pdf")
    # 2. drag and drop onto the reply form
    page.evaluate(
        "bytes => { const dt = new DataTransfer();"
        " dt.items.add(new File([new Uint8Array(bytes)], 'nota.txt', {type: 'text/plain'}));"
        " document.getElementById('reply-form')"
        ".dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); }",
        list(b"Hola"),
    )
    send("Una nota")
    last_admin_message_says(page, "nota.txt")
    # 3. pasting an image into the reply
    page.evaluate(
        "bytes => { const dt = new DataTransfer();"
        " dt.items.add(new File([new Uint8Array(bytes)], 'captura.png', {type: 'image/png'}));"
        " document.getElementById('reply-text')"
        ".dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }",
        list(files.png()),
    )
    send("")  # an empty text: the file name is the message
    page.wait_for_function("() => document.querySelectorAll('#messages .msg-admin .msg-thumb img').length === 1")
    assert_accessible(page, "after uploads")
    stored = site.store.list_messages(ticket.id, after_id=0, limit=50)
    assert [m.message for m in stored[-3:]] == ["La guía", "Una nota", "captura.png"]
    assert [m.message_type.value for m in stored[-3:]] == ["file", "file", "image"]


def test_a_refused_upload_says_why_and_sends_nothing(site: Site, ui: PanelPage) -> None:
    from supportchat import Actor

    ticket = site.desk.create_ticket(Actor.user(21), subject="Un archivo", description="raro")
    ui.sign_in(site)
    ui.open_ticket(ticket.id)
    page = ui.page
    page.set_input_files("#reply-file", files=[{"name": "x.svg", "mimeType": "image/svg+xml", "buffer": b"<svg/>"}])
    page.wait_for_selector(".toast-error")
    assert page.is_hidden("#reply-attachment-box")
    assert len(site.store.list_messages(ticket.id, after_id=0, limit=10)) == 0
