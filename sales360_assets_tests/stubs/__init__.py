"""Local HTTP(S) stand-ins for Salesforce and BigQuery, so the real client libraries can be tested offline.

Each stub is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (port chosen by the OS) running in a
daemon thread. It records every request it receives (credentials stripped) so tests can assert
on exactly what a client sent, and it can be told to fail the next N matching requests.

Start them from tests through ``sales360_assets_tests.stubs.fixtures``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

# Headers a recorded request never keeps: they carry credentials.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-sfdc-session", "proxy-authorization"})


@dataclass
class StubRequest:
    """One request as a stub sees it (credentials included; never stored as is)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def bearer_token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


@dataclass
class RecordedRequest:
    """What tests assert on: the request minus credentials, plus what the stub made of it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str | None
    # Filled by the stub: e.g. {"soql": ...} or {"query": ..., "parameters": ...}.
    info: dict[str, Any] = field(default_factory=dict)
    status: int | None = None


@dataclass
class StubResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection without answering (the client sees a connection error).
    drop: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> StubResponse:
        return cls(
            status=status,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json;charset=UTF-8", **(headers or {})},
        )


@dataclass
class Fault:
    """Fail the next ``times`` requests that ``matches`` (all requests of the stub's API when None)."""

    kind: str
    times: int = 1
    matches: Callable[[StubRequest], bool] | None = None


class StubServer:
    """Base: serving thread, request log and fault queue; subclasses implement ``handle``."""

    #: Set by subclasses that serve TLS.
    ssl_context: ssl.SSLContext | None = None

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "stub not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> Self:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                stub._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: the request log is the record, and stderr noise hides test output.
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.ssl_context is not None:
            server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- faults and log -------------------------------------------------------------------------

    def inject(self, kind: str, times: int = 1, *, path_contains: str | None = None, method: str | None = None) -> None:
        """Make the next ``times`` matching API requests fail with ``kind`` (see the subclass)."""

        def matches(request: StubRequest) -> bool:
            return (path_contains is None or path_contains in request.path) and (
                method is None or request.method == method
            )

        with self.lock:
            self.faults.append(Fault(kind, times, matches))

    def take_fault(self, request: StubRequest) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and (fault.matches is None or fault.matches(request)):
                    fault.times -= 1
                    return fault.kind
            return None

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if path_contains in r.path and (method is None or r.method == method)]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    # --- dispatch -------------------------------------------------------------------------------

    def record_body(self, request: StubRequest) -> str | None:
        """The body as stored in the log; subclasses blank out credential-bearing bodies."""
        return request.body.decode("utf-8", "replace") if request.body else None

    def handle(self, request: StubRequest, record: RecordedRequest) -> StubResponse:
        raise NotImplementedError

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = StubRequest(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: v[0] for k, v in request.query.items()},
            headers={k: v for k, v in headers.items() if k not in _SECRET_HEADERS},
            body=self.record_body(request),
        )
        with self.lock:
            self.requests.append(record)
        try:
            response = self.handle(request, record)
        except Exception as exc:  # a stub bug must surface as a 500 the test can see, not a hang
            record.info["stub_error"] = repr(exc)
            response = StubResponse.json({"stub_error": repr(exc)}, status=500)
        record.status = None if response.drop else response.status
        if response.drop:
            handler.close_connection = True
            with contextlib.suppress(OSError):  # the client may already be gone
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.send_response(response.status)
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)
