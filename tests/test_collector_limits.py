"""The collector's limits against hostile servers and arguments, without a simulator (issue #11).

A server that sends a byte a second, or an endless answer, cannot hold or flood the collector; a
server address with a password in it is refused without being echoed.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("pyVmomi", reason="the collector needs the vsphere extra (pyVmomi)")

from evckit.cli import main
from evckit.vsphere import (
    CollectError,
    CollectTimeoutError,
    ResponseTooLargeError,
    _Guard,
    _Session,
    collect_snapshot,
    parse_server,
    ssl_context,
)


class _Plain(http.client.HTTPConnection):
    """HTTP without TLS for a local test server (the collector's own class speaks HTTPS)."""

    def __init__(self, *args: Any, context: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """Serve one connection with a handler on 127.0.0.1; yields a starter returning the port."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def start(handler: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)  # the request
                try:
                    handler(conn)
                except OSError:
                    pass  # the client hung up: what the limits are for

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return int(listener.getsockname()[1])

    yield start
    stop.set()
    for listener in listeners:
        listener.close()
    for thread in threads:
        thread.join(timeout=10)


def _session(port: int, guard: _Guard) -> _Session:
    guard.connection_class = guard._connection_class(_Plain)
    return _Session(f"127.0.0.1:{port}", "u", "p", ssl_context(insecure=True), guard.call_timeout, 10,
                    lambda _m: None, None, guard)


def test_a_byte_a_second_is_cut_by_the_call_deadline(server: Any) -> None:
    """Each byte arrives within the socket timeout, but the answer never completes: the call's
    deadline ends it, reported as a timeout."""
    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(600):
            conn.sendall(b"<")
            time.sleep(0.1)

    guard = _Guard(call_timeout=1.0, total_timeout=600)
    session = _session(server(drip), guard)
    with pytest.raises(Exception) as info:
        session._negotiate()
    translated = session.translate(info.value, retrying=False)
    assert isinstance(translated, CollectTimeoutError)
    assert "no answer within 1 s (--timeout)" in str(translated)


def test_the_whole_collection_has_a_deadline(server: Any) -> None:
    """With little time left in all, the call gets only that; the error names --total-timeout."""
    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(600):
            conn.sendall(b"<")
            time.sleep(0.1)

    guard = _Guard(call_timeout=600, total_timeout=1.0)
    session = _session(server(drip), guard)
    with pytest.raises(Exception) as info:
        session._negotiate()
    assert "--total-timeout" in str(session.translate(info.value, retrying=False))


def test_endless_versions_document_is_capped(server: Any) -> None:
    """An endless vimServiceVersions.xml is read up to 1 MiB, then refused."""
    def flood(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<versions>")
        chunk = b"<version>x</version>" * 5000
        for _ in range(10_000):  # 1 GB if nobody stops reading
            conn.sendall(chunk)

    session = _session(server(flood), _Guard(call_timeout=60, total_timeout=600))
    with pytest.raises(ResponseTooLargeError, match="larger than"):
        session._negotiate()


def test_any_answer_is_capped(server: Any) -> None:
    """Every answer read through the collector's connections counts against the cap."""
    def flood(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        for _ in range(1000):
            conn.sendall(b"x" * 100_000)

    guard = _Guard(call_timeout=60, total_timeout=600, max_bytes=1_000_000)
    conn = guard._connection_class(_Plain)("127.0.0.1", server(flood), timeout=10)
    conn.request("POST", "/sdk")
    resp = conn.getresponse()
    with pytest.raises(ResponseTooLargeError):
        while resp.read(65536):
            pass
    conn.close()


@pytest.mark.parametrize("text", ["https://admin:S3cr3t@vc01", "admin:S3cr3t@vc01", "admin@vc01:443",
                                  "https://admin@vc01/sdk"])
def test_user_information_in_the_server_is_refused(text: str) -> None:
    """A URL with user information never reaches the network, the snapshot or the error."""
    with pytest.raises(CollectError) as info:
        parse_server(text)
    assert "S3cr3t" not in str(info.value) and "refused" in str(info.value)


def test_user_information_is_refused_by_the_command(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """`collect --server https://u:pw@host`: status 2, one line, no password anywhere, no file."""
    monkeypatch.setenv("EVCKIT_PASSWORD", "x")
    out = tmp_path / "o.json"
    assert main(["collect", "--server", "https://u:S3cr3t@vc01", "--user", "u", "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert "S3cr3t" not in captured.out + captured.err and captured.err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize("text", ["a" * 64 + ".example.com", "https://" + "b" * 64, ("c" * 60 + ".") * 5 + "com",
                                  "x..y"])
def test_long_host_names_are_one_line_errors(text: str) -> None:
    """A label over 63 characters (IDNA) or a name over 253 is a CollectError, not a UnicodeError."""
    with pytest.raises(CollectError, match="--server"):
        parse_server(text)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0.0, -1.0])
def test_timeouts_must_be_finite_and_positive(value: float) -> None:
    """The library refuses inf/nan/0 timeouts as the command line does."""
    for kwargs in ({"timeout": value}, {"total_timeout": value}):
        with pytest.raises(CollectError, match="positive, finite"):
            collect_snapshot(["vc01"], "u", "p", **kwargs)  # type: ignore[arg-type]
