"""The tests' own index server must not write into the stream the tests read slim's messages from."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from tests.local_index import QuietHTTPServer


def _serve_one_failing_request(error: Exception) -> QuietHTTPServer:
    class Failing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            raise error

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = QuietHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/", timeout=10)
    thread.join(timeout=10)
    server.server_close()
    return server


def test_a_connection_the_client_dropped_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # As when uv gives up on a request: the handler's write fails with a broken pipe.
    server = _serve_one_failing_request(BrokenPipeError(32, "Broken pipe"))
    assert capsys.readouterr().err == ""
    assert server.errors == []


def test_any_other_error_is_kept_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    server = _serve_one_failing_request(ValueError("a bug in the test's handler"))
    assert capsys.readouterr().err == ""
    assert len(server.errors) == 1 and "a bug in the test's handler" in server.errors[0]
