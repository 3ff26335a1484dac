"""The OpenAPI document tells the truth about the download route: file bytes of any type, not a JSON envelope."""

from __future__ import annotations

import json

from supportchat.cli.features import installed_features
from supportchat.http.openapi import document
from supportchat.http.routes import route_table
from supportchat.rules import Limits


def test_the_download_route_is_documented_as_bytes_and_the_uploads_as_json() -> None:
    routes = route_table(installed_features())
    paths = document(Limits(), routes=routes)["paths"]
    download = paths["/admin/api/support/attachments/{attachment_id}"]["get"]["responses"]["200"]
    assert download["content"] == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    upload = paths["/admin/api/support/tickets/{ticket_id}/attachments"]["post"]["responses"]["200"]
    assert list(upload["content"]) == ["application/json"]
    json.dumps(paths)  # the whole document stays JSON
