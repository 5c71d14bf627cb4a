"""Fixtures of the data tests: a local HTTP server (127.0.0.1 only; nothing here touches the
internet) and isolated search paths."""

from __future__ import annotations

import http.server
import threading

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncate: set[str] = set()
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        type(self).hits.append(self.path)
        if name not in self.files:
            self.send_error(404, "Not Found")
            return
        body = self.files[name]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A threaded HTTP server on 127.0.0.1 serving ``server.files`` (name -> bytes)."""
    handler = type("Handler", (_Handler,), {"files": {}, "truncate": set(), "hits": []})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True)
    t.start()
    srv.files = handler.files
    srv.truncate = handler.truncate
    srv.hits = handler.hits
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/files/"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(timeout=5)


@pytest.fixture
def isolated_paths(tmp_path, monkeypatch):
    """No $STRIATE_DATA / mirror override, user cache inside tmp_path."""
    monkeypatch.delenv("STRIATE_DATA", raising=False)
    monkeypatch.delenv("STRIATE_DATA_MIRROR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path
