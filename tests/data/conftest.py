"""A local HTTP server for the download tests: files served from a folder on a loopback
port, in a thread, so that no test touches the network."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Server:
    """A running server.

    Attributes:
        folder: the files it serves (``<url>/NAME`` is ``folder/NAME``).
        url: its base URL, ``http://127.0.0.1:PORT``.
        truncated: file name -> bytes actually sent, while the full length is announced
            (a connection that breaks mid-download).
        requests: the paths requested so far.
    """

    folder: Path
    url: str
    truncated: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


class _Handler(http.server.SimpleHTTPRequestHandler):
    state: Server

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        self.state.requests.append(self.path)
        name = self.path.lstrip("/")
        cut = self.state.truncated.get(name)
        if cut is None:
            super().do_GET()
            return
        data = (self.state.folder / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:cut])
        self.close_connection = True


@pytest.fixture
def server(tmp_path, monkeypatch) -> Iterator[Server]:
    """Serve ``tmp_path/remote`` over HTTP on 127.0.0.1 (never through a proxy)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    folder = tmp_path / "remote"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    handler.state = state = Server(folder, f"http://127.0.0.1:{httpd.server_port}")
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
