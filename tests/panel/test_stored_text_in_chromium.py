"""Stored text rendered as HTML runs nothing, loads nothing, adds no acting element (issue 12 #4).

Every payload of ``xss_payloads.txt`` (and every line of the plain-text corpus)
is stored through the desk on a SQLite file; the stored text is then assigned
to ``innerHTML`` of a page in headless Chromium, and also inserted through
``createContextualFragment``, which — unlike ``innerHTML`` — runs the scripts it
creates. The page counts dialogs, console output, page errors and a global
flag; every request is counted (and refused) through Playwright's routing; and
the DOM is searched for elements with an event handler, ``style`` or a URL
attribute, and for elements that run or embed anything.

A control run assigns raw payloads the same way and must trip each detector,
so the test could fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supportchat import Actor, SupportDesk
from supportchat.stores.sql import SQLStore

pytestmark = pytest.mark.timeout(300)

HERE = Path(__file__).parent
PAYLOADS = [line for line in (HERE / "xss_payloads.txt").read_text("utf-8").splitlines() if line]
#: Payloads a line-per-payload file cannot hold.
MULTILINE_PAYLOADS = [
    "<img\nsrc=x\nonerror=alert(1)>",
    "<svg\nonload=alert(1)>",
    '<a\nhref="javascript:alert(1)">x</a>',
    "<scr\nipt>alert(1)</script>",
    "<div\tstyle=color:red>x</div>",
    "if a<b\nonclick=alert(1)>c",
]
PLAIN = (HERE.parent / "corpora" / "plain_text.txt").read_text("utf-8").splitlines()
ORIGIN = "http://sink.test"

#: Elements that run, style or embed anything (an img is fine: without src it loads nothing).
ACTIVE_TAGS = [
    "SCRIPT", "STYLE", "IFRAME", "FRAME", "FRAMESET", "OBJECT", "EMBED", "APPLET", "PORTAL", "FENCEDFRAME",
    "SVG", "MATH", "NOSCRIPT", "XMP", "PLAINTEXT", "NOEMBED", "NOFRAMES",
]  # fmt: skip
URL_ATTRIBUTES = [
    "href", "src", "srcset", "imagesrcset", "action", "formaction", "xlink:href", "data", "poster",
    "background", "cite", "ping", "codebase", "classid", "archive", "longdesc", "lowsrc", "dynsrc",
    "manifest", "usemap", "srcdoc", "http-equiv", "content",
]  # fmt: skip

PAGE = """<!doctype html><html><head><meta charset=utf-8><title>sink</title>
<script>
window.__xss = 0;
window.alert = window.confirm = window.prompt = function (m) { window.__xss += 1; console.log("XSS " + m); };
</script></head><body><main id=sinks></main></body></html>"""

#: Assign each text to a fresh element, by innerHTML and by a contextual fragment (which runs scripts).
RENDER = """texts => {
  const sinks = document.getElementById('sinks');
  texts.forEach((text, i) => {
    const byInner = document.createElement('div');
    byInner.dataset.index = i; byInner.dataset.sink = 'innerHTML';
    byInner.innerHTML = text;
    sinks.appendChild(byInner);
    const byFragment = document.createElement('div');
    byFragment.dataset.index = i; byFragment.dataset.sink = 'fragment';
    byFragment.appendChild(document.createRange().createContextualFragment(text));
    sinks.appendChild(byFragment);
  });
}"""

#: Every element added under a sink that carries an event handler, style or URL attribute, or acts by itself.
FINDINGS = """([activeTags, urlAttributes]) => {
  const found = [];
  document.querySelectorAll('#sinks > div').forEach(sink => {
    sink.querySelectorAll('*').forEach(el => {
      const why = [];
      if (activeTags.includes(el.tagName.toUpperCase())) why.push(el.tagName);
      for (const attribute of el.attributes) {
        const name = attribute.name.toLowerCase();
        if (name.startsWith('on') || name === 'style' || urlAttributes.includes(name)) why.push(name);
      }
      if (why.length) found.push([Number(sink.dataset.index), sink.dataset.sink, why.join(' ')]);
    });
  });
  return {found, xss: window.__xss, title: document.title, sinks: document.querySelectorAll('#sinks > div').length};
}"""


class Sink:
    """A page on a routed origin that records everything the texts given to it make happen."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", self._request)
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(ORIGIN + "/")

    def _route(self, route: Any) -> None:
        if route.request.url == ORIGIN + "/":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)
        else:
            route.abort()

    def _request(self, request: Any) -> None:
        if request.url != ORIGIN + "/":
            self.requests.append(request.url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def render(self, texts: list[str]) -> dict[str, Any]:
        self.page.evaluate(RENDER, texts)
        # Let failed loads fire their error events, animations begin, focus move, timers run.
        self.page.wait_for_timeout(1500)
        findings: dict[str, Any] = self.page.evaluate(FINDINGS, [ACTIVE_TAGS, URL_ATTRIBUTES])
        findings.update(requests=self.requests, dialogs=self.dialogs, console=self.console, errors=self.errors)
        return findings


@pytest.fixture
def sink(browser: Any) -> Iterator[Sink]:
    page = Sink(browser)
    try:
        yield page
    finally:
        page.context.close()


def _stored(texts: list[str], path: Path) -> list[str]:
    """Each text stored through the desk on a SQLite file, as subject, description and message; read back."""
    store = SQLStore.from_url(f"sqlite:///{path}")
    try:
        desk, user = SupportDesk(store), Actor.user(9)
        stored: list[str] = []
        for text in texts:
            ticket = desk.create_ticket(user, subject=text[:200], description=text)
            desk.post_message(user, ticket.id, text)
            row = store.get_ticket(ticket.id)
            assert row is not None
            stored += [row.subject, row.description, store.list_messages(ticket.id)[0].message]
        return stored
    finally:
        store.close()


def test_the_corpus_is_large_and_varied() -> None:
    assert len(PAYLOADS) + len(MULTILINE_PAYLOADS) >= 150
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    for marker in ("<script", "onerror=", "javascript:", "<svg", "<math", "style=", "srcset", "xlink:href", "&#"):
        assert any(marker in p for p in PAYLOADS), marker


def test_stored_payloads_assigned_to_innerhtml_run_nothing_and_load_nothing(sink: Sink, tmp_path: Path) -> None:
    stored = _stored(PAYLOADS + MULTILINE_PAYLOADS + PLAIN, tmp_path / "desk.db")
    findings = sink.render(stored)
    clean = {
        "found": [],
        "xss": 0,
        "title": "sink",
        "sinks": 2 * len(stored),
        "requests": [],
        "dialogs": [],
        "console": [],
        "errors": [],
    }
    # Name the stored text behind each finding, to read a failure.
    findings["found"] = [(stored[i], sink_name, why) for i, sink_name, why in findings["found"]]
    assert findings == clean
    print(f"\n{len(PAYLOADS) + len(MULTILINE_PAYLOADS)} payloads and {len(PLAIN)} plain lines, "
          f"{len(stored)} stored texts × 2 sinks in Chromium: nothing ran, loaded or carried an attribute")  # fmt: skip


def test_the_detectors_catch_raw_payloads(sink: Sink) -> None:
    """The control: unsanitised markup trips every detector the test relies on."""
    findings = sink.render(
        [
            '<img src=x onerror="window.__xss += 100">',
            "<script>alert('from a fragment')</script>",
            '<a href="javascript:alert(1)">x</a>',
            "<p style=color:red>x</p>",
            '<img src="http://elsewhere.test/pixel.png">',
            "<svg><circle r=1 /></svg>",
        ]
    )
    reasons = {why for _, _, why in findings["found"]}
    assert {"onerror", "SCRIPT", "href", "style", "src", "svg"} <= {r for why in reasons for r in why.split()}
    assert findings["xss"] >= 100  # the img's handler ran; the fragment's script called alert
    assert "XSS from a fragment" in findings["console"]
    assert any(url.startswith("http://elsewhere.test/") for url in findings["requests"])
