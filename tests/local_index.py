"""A PEP 503 simple index of wheels served on 127.0.0.1 by the test itself, optionally behind basic auth."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_wheel_filename

# A test that hangs on its own index is a broken test: requests are answered or dropped within this.
_REQUEST_TIMEOUT_SECONDS = 10


@dataclass
class LocalIndex:
    wheels: Path  # the directory whose wheels the index serves
    port: int
    credentials: tuple[str, str] | None
    requests: list[str] = field(default_factory=list)  # paths asked for, with the credentials given or not

    def url(self, user: str | None = None, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if user is not None else ""
        return f"http://{auth}127.0.0.1:{self.port}/simple"

    def served(self, name: str) -> bool:
        """Whether a file of `name` was downloaded from this index with the right credentials."""
        return any(re.search(rf"^ok /files/{name}-", line) for line in self.requests)


class QuietHTTPServer(ThreadingHTTPServer):
    """A test server that keeps its request errors to itself.

    The default `handle_error` prints a traceback to `sys.stderr`, and the server's threads share that stream
    with the test: under click's CliRunner it is the stream the test reads slim's messages from. An installer
    that drops a connection it no longer needs (uv does, once it knows a name is missing) left a
    BrokenPipeError traceback, with "python3.11" in its paths, in the middle of a message a test checked
    (CI, stop 20). A dropped connection is the client's right; any other error is kept in `errors`.
    """

    errors: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors = []
        self.daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            self.errors.append(traceback.format_exc())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _page(links: list[tuple[str, str]]) -> bytes:
    body = "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a><br/>\n' for href, text in links)
    return f"<!DOCTYPE html><html><body>\n{body}</body></html>\n".encode()


def _handler(index: LocalIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = _REQUEST_TIMEOUT_SECONDS

        def do_HEAD(self) -> None:
            self.do_GET(with_body=False)

        def do_GET(self, with_body: bool = True) -> None:
            # Read per request: a test may change the password the index accepts.
            expected = "Basic " + base64.b64encode(":".join(index.credentials or ()).encode()).decode()
            if index.credentials and self.headers.get("Authorization") != expected:
                index.requests.append(f"401 {self.path}")
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="private"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            index.requests.append(f"{'ok' if with_body else 'head'} {self.path}")
            body, content_type = self._answer()
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def _answer(self) -> tuple[bytes | None, str]:
            path = self.path.split("?", 1)[0]
            wheels = sorted(index.wheels.glob("*.whl"))
            if path in ("/simple", "/simple/"):
                names = sorted({canonicalize_name(parse_wheel_filename(w.name)[0]) for w in wheels})
                return _page([(f"/simple/{name}/", name) for name in names]), "text/html"
            project = re.fullmatch(r"/simple/([^/]+)/?", path)
            if project:
                wanted = canonicalize_name(project.group(1))
                files = [w for w in wheels if canonicalize_name(parse_wheel_filename(w.name)[0]) == wanted]
                if not files:
                    return None, ""
                links = [
                    (f"/files/{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}", w.name) for w in files
                ]
                return _page(links), "text/html"
            file = re.fullmatch(r"/files/([^/]+\.whl)", path)
            if file and (index.wheels / file.group(1)).is_file():
                return (index.wheels / file.group(1)).read_bytes(), "application/octet-stream"
            return None, ""

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def serve(wheels: Path, credentials: tuple[str, str] | None = None) -> Iterator[LocalIndex]:
    """Serve `wheels` on a free loopback port until the generator is closed (a fixture's teardown)."""
    index = LocalIndex(wheels, 0, credentials)
    server = QuietHTTPServer(("127.0.0.1", 0), _handler(index))
    index.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
