"""Attachments benchmark: upload and download throughput through each adapter, and memory under parallel uploads.

    python -m benchmarks.attachments [--rounds 5]

For FastAPI (uvicorn) and Flask (werkzeug's threaded server), one server
process at a time on 127.0.0.1 serves both:

* ``lib``: the attachments routes (``POST …/attachments``, ``GET
  /attachments/<id>`` with a signed URL: signature check, ownership,
  spec §14's headers, streamed from the local blob store);
* ``static``: the framework's own file handling of the same bytes: Starlette's
  ``FileResponse`` / Flask's ``send_file`` for downloads, ``UploadFile`` /
  ``request.files[…].save`` for uploads.

It prints MiB/s for 1 MiB and 10 MiB files and lib/static ratios (target
≥ 0.7× for downloads), then uploads 10 MiB from 8 clients at once and prints
the server's peak resident memory above its idle level, per upload in flight
(target: at most 2× the file size). Every run is bounded (a fixed number of
transfers, timeouts on every request).
"""

# No "from __future__ import annotations": FastAPI must resolve the baseline endpoint's UploadFile.

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PREFIX = "/admin/api/support"
SECRET = "benchmark-secret-0123456789abcdefghijkl"
MiB = 1024 * 1024
SIZES = {"1 MiB": MiB, "10 MiB": 10 * MiB}
#: Transfers per measurement, by size: about 40 MiB moved each time.
COUNTS = {MiB: 40, 10 * MiB: 4}
PARALLEL = 8


# -- the server process ------------------------------------------------------


def _document(size: int) -> bytes:
    # Text the validation accepts (UTF-8, no NUL), incompressible enough.
    return secrets.token_hex(size // 2 + 1).encode()[:size]


def _app(adapter: str, root: Path) -> tuple[Any, dict[str, Any]]:
    from supportchat import Actor, InMemoryStore, SupportDesk
    from supportchat.attachments import Attachments, LocalBlobStore, UrlSigner
    from supportchat.attachments.feature import feature
    from supportchat.http import InMemoryAdminTokens, TokenAuthenticator, UserTokens
    from supportchat.http.ratelimit import RateLimiter, RateLimits

    desk = SupportDesk(InMemoryStore())
    tokens = InMemoryAdminTokens()
    _, token = tokens.create("bench")
    attachments = Attachments(LocalBlobStore(root / "blobs"), UrlSigner(SECRET), spool=root / "spool")
    ticket = desk.create_ticket(Actor.user(7), subject="Benchmark", description="Adjuntos")
    options = {
        "authenticator": TokenAuthenticator(tokens, UserTokens(SECRET)),
        "rate_limiter": RateLimiter(RateLimits.unlimited()),
        "features": [feature(attachments)],
    }
    static = root / "static"
    static.mkdir()
    info = {"token": token, "ticket": ticket.id, "static": str(static)}
    if adapter == "fastapi":
        from fastapi import UploadFile
        from fastapi.responses import FileResponse

        from supportchat.adapters.fastapi import create_app

        app = create_app(desk, **options)

        @app.get("/static/{name}")
        async def download(name: str) -> FileResponse:
            return FileResponse(static / name, media_type="text/plain")

        @app.post("/static-upload")
        def receive(file: UploadFile) -> dict[str, int]:
            with tempfile.NamedTemporaryFile(dir=root) as out:
                size = 0
                while chunk := file.file.read(256 * 1024):
                    out.write(chunk)
                    size += len(chunk)
            return {"size": size}

        return app, info
    import flask

    from supportchat.adapters.flask import SupportChat

    app = flask.Flask("bench")
    SupportChat(desk, **options).init_app(app)

    @app.get("/static/<name>")
    def flask_download(name: str) -> Any:
        return flask.send_file(static / name, mimetype="text/plain")

    @app.post("/static-upload")
    def flask_receive() -> Any:
        with tempfile.NamedTemporaryFile(dir=root) as out:
            flask.request.files["file"].save(out)
            return {"size": out.tell()}

    return app, info


def serve(adapter: str, port: int, root: Path) -> None:
    app, info = _app(adapter, root)
    print(json.dumps(info), flush=True)
    if adapter == "fastapi":
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    else:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet).serve_forever()


# -- the client ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "bench" + secrets.token_hex(8)
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    head += "Content-Type: text/plain\r\n\r\n"
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _peak_rss(pid: int) -> tuple[int, int]:
    """Current and peak resident memory of a process, in bytes."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


class Server:
    def __init__(self, adapter: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="supportchat-bench-"))
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.attachments", "--serve", adapter, str(self.port), str(self.root)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert self.process.stdout is not None
        self.info = json.loads(self.process.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"
        import httpx

        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.base + PREFIX + "/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _paired(lib: Any, static: Any, count: int, size: int) -> tuple[float, float]:
    """MiB/s of ``lib`` and ``static``, their transfers alternating so that both meet the same load."""
    spent = [0.0, 0.0]
    for _ in range(count):
        for index, run in enumerate((lib, static)):
            start = time.perf_counter()
            run()
            spent[index] += time.perf_counter() - start
    return count * size / MiB / spent[0], count * size / MiB / spent[1]


def measure(adapter: str, rounds: int) -> dict[str, Any]:
    import httpx

    server = Server(adapter)
    results: dict[str, Any] = {}
    try:
        admin = {"Authorization": f"Bearer {server.info['token']}"}
        upload_url = f"{server.base}{PREFIX}/tickets/{server.info['ticket']}/attachments"
        with httpx.Client(timeout=60) as client:
            for label, size in SIZES.items():
                results[label] = _one_size(client, server, admin, upload_url, size, rounds)
            results["memory"] = _parallel_uploads(server, upload_url, admin)
    finally:
        server.close()
    return results


def _one_size(
    client: Any, server: Server, admin: dict[str, str], upload_url: str, size: int, rounds: int
) -> dict[str, float]:
    """Lib and static MiB/s for one file size: those of the round whose lib/static ratio is the median."""
    data = _document(size)
    body, media_type = _multipart("doc.txt", data)
    (Path(server.info["static"]) / "doc.txt").write_bytes(data)
    uploaded = client.post(upload_url, content=body, headers={**admin, "Content-Type": media_type})
    uploaded.raise_for_status()
    signed = server.base + uploaded.json()["data"]["url"]
    static = f"{server.base}/static/doc.txt"
    assert client.get(signed).content == data and client.get(static).content == data

    def lib_up() -> None:
        client.post(upload_url, content=body, headers={**admin, "Content-Type": media_type}).raise_for_status()

    def static_up() -> None:
        client.post(
            server.base + "/static-upload", content=body, headers={"Content-Type": media_type}
        ).raise_for_status()

    pairs = {
        "download": (lambda: client.get(signed).raise_for_status(), lambda: client.get(static).raise_for_status()),
        "upload": (lib_up, static_up),
    }
    chosen: dict[str, float] = {}
    for direction, (lib, plain) in pairs.items():
        measured = sorted(
            (lib_rate / static_rate, lib_rate, static_rate)
            for lib_rate, static_rate in (_paired(lib, plain, COUNTS[size], size) for _ in range(rounds))
        )
        _, chosen[f"{direction} lib"], chosen[f"{direction} static"] = measured[len(measured) // 2]
    return chosen


def _parallel_uploads(server: Server, upload_url: str, admin: dict[str, str]) -> dict[str, float]:
    import httpx

    body, media_type = _multipart("big.txt", _document(10 * MiB))
    pid = server.process.pid
    idle, _ = _peak_rss(pid)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current size
    barrier = threading.Barrier(PARALLEL)
    failures: list[str] = []

    def one() -> None:
        with httpx.Client(timeout=120) as client:
            barrier.wait(timeout=30)
            answer = client.post(upload_url, content=body, headers={**admin, "Content-Type": media_type})
            if answer.status_code != 200:
                failures.append(answer.text[:200])

    threads = [threading.Thread(target=one) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    _, peak = _peak_rss(pid)
    assert not failures, failures
    per_upload = (peak - idle) / PARALLEL
    return {"idle_mib": idle / MiB, "peak_mib": peak / MiB, "per_upload_mib": per_upload / MiB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", nargs=3, metavar=("ADAPTER", "PORT", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), Path(args.serve[2]))
        return
    print(
        f"attachments benchmark: median of {args.rounds} rounds (transfers alternating), "
        "MiB/s (lib / the framework's own file handling)"
    )
    for adapter in ("fastapi", "flask"):
        results = measure(adapter, args.rounds)
        for label in SIZES:
            best = results[label]
            for direction in ("download", "upload"):
                lib, static = best[f"{direction} lib"], best[f"{direction} static"]
                print(
                    f"{adapter:8} {direction:8} {label:7} lib {lib:8.1f}  static {static:8.1f}  "
                    f"ratio {lib / static:5.2f}x"
                )
        memory = results["memory"]
        print(
            f"{adapter:8} {PARALLEL} parallel 10 MiB uploads: idle {memory['idle_mib']:.1f} MiB, "
            f"peak {memory['peak_mib']:.1f} MiB, {memory['per_upload_mib']:.1f} MiB per upload in flight "
            f"({memory['per_upload_mib'] / 10:.2f}x the file size)"
        )


if __name__ == "__main__":
    main()
