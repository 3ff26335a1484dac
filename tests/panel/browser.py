"""Helpers for driving the panel in Chromium: instrumentation against XSS, sign-in, waiting for loads."""

from __future__ import annotations

import contextlib
from typing import Any

from .servers import Site

#: Installed before any page script: records dialogs' substitutes, CSP violations and any
#: dangerous element added to the document after it loaded (the panel itself never adds one).
INSTRUMENT = r"""
window.__xss = window.__xss || 0;
window.__cspViolations = [];
window.__addedForbidden = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
// The panel never creates any of these; markup in stored text would.
var DANGEROUS = ["SCRIPT", "IMG", "IFRAME", "OBJECT", "EMBED", "STYLE", "LINK", "META", "BASE", "VIDEO", "AUDIO",
  "SOURCE", "MATH", "FRAMESET", "FRAME", "APPLET", "PORTAL", "TEMPLATE", "FOREIGNOBJECT", "ANIMATE", "SET", "USE",
  "IMAGE", "INPUT", "FORM", "TEXTAREA", "MARQUEE", "NOSCRIPT", "XMP", "PLAINTEXT", "BGSOUND", "KEYGEN", "XSS", "X"];
// Containers the panel fills with stored text through textContent: they never hold an element.
var TEXT = ".msg-text, .ticket-subject, .ticket-description, .toast, #ticket-meta, #history-list span";
// The one image the panel makes: an attachment's thumbnail, in its button, from the API's own origin.
function panelThumbnail(el) {
  return el.tagName === "IMG" && el.parentElement && el.parentElement.classList.contains("msg-thumb") &&
    el.src.indexOf(location.origin + "/") === 0;
}
function check(el) {
  if (panelThumbnail(el)) return;
  var container = el.parentElement && el.parentElement.closest(TEXT);
  if (container || DANGEROUS.indexOf(el.tagName.toUpperCase()) >= 0) {
    window.__addedForbidden.push(el.outerHTML.slice(0, 120));
  }
}
document.addEventListener("DOMContentLoaded", function () {
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType !== 1) return;
        check(node);
        node.querySelectorAll("*").forEach(check);
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
});
"""


class PanelPage:
    """A Playwright page with the instrumentation and what it recorded."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.page = context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Works offline: nothing is ever fetched from anywhere but the server on 127.0.0.1.
        self.foreign: list[str] = []
        self.page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if not request.url.startswith(("http://127.0.0.1:", "data:", "about:")):
            self.foreign.append(request.url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def sign_in(self, site: Site) -> None:
        self.page.goto(site.panel_url)
        self.page.fill("#login-token", site.admin_token)
        self.page.click("#login-submit")
        self.page.wait_for_selector("body[data-ready=true]")

    def list_loads(self) -> int:
        return int(self.page.evaluate("Number(document.body.dataset.listLoaded || 0)"))

    def wait_list_after(self, before: int) -> None:
        self.page.wait_for_function("n => Number(document.body.dataset.listLoaded || 0) > n", arg=before)

    def row_ids(self) -> list[int]:
        ids = self.page.eval_on_selector_all("#ticket-rows tr", "rows => rows.map(r => Number(r.dataset.ticketId))")
        return [int(i) for i in ids]

    def wait_rows(self, expected: list[int], timeout: float = 5000) -> list[int]:
        """The list's ticket ids once they are ``expected`` (or whatever they are after ``timeout`` ms)."""
        with contextlib.suppress(Exception):
            self.page.wait_for_function(
                "ids => JSON.stringify(Array.from(document.querySelectorAll('#ticket-rows tr'))"
                ".map(r => Number(r.dataset.ticketId))) === JSON.stringify(ids)",
                arg=expected,
                timeout=timeout,
            )
        return self.row_ids()

    def open_ticket(self, ticket_id: int) -> None:
        self.page.evaluate("id => { window.location.hash = '#/tickets/' + id; }", ticket_id)
        self.page.wait_for_selector(f"body[data-ticket-loaded='{ticket_id}']")

    def findings(self) -> dict[str, Any]:
        """Everything that would betray an injection or a broken page."""
        recorded = self.page.evaluate(
            "({xss: window.__xss || 0, csp: window.__cspViolations || [], added: window.__addedForbidden || []})"
        )
        return {"dialogs": self.dialogs, "errors": self.errors, "foreign": self.foreign, **recorded}

    def assert_clean(self) -> None:
        assert self.findings() == {"dialogs": [], "errors": [], "foreign": [], "xss": 0, "csp": [], "added": []}


def new_panel_page(browser: Any, locale: str = "en-US", timezone: str = "Europe/Madrid") -> PanelPage:
    context = browser.new_context(locale=locale, timezone_id=timezone, viewport={"width": 1400, "height": 900})
    context.add_init_script(INSTRUMENT)
    return PanelPage(context)
