"""HTTPS backends: certificate and host-name verification, tlsCaFile and tlsInsecureSkipVerify.

The backend is the mock over HTTP (`mock-mcp-server --http`) behind a TLS-terminating forwarder
written here with Python's ssl module, using a throw-away certificate made with the openssl CLI.
Spec: 2025-11-25 basic/security_best_practices and basic/transports (Streamable HTTP over https);
RFC 6125 for the host-name check.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, STOP_TIMEOUT_S, McpClient, text_of

BACKEND_UNAVAILABLE = -32000


def make_certificate(folder: Path, name: str, san: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TlsForwarder:
    """Accepts TLS on 127.0.0.1 (port 0) and pipes each connection to a plain TCP port."""

    def __init__(self, cert: Path, key: Path, target_port: int):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)  # accept() wakes up to see stop()
        self.stopping = threading.Event()
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.sockets: list[socket.socket] = []  # closed by stop(), which ends the pipes
        self.handshake_failures = 0
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, raw: socket.socket) -> None:
        self.sockets.append(raw)
        raw.settimeout(30)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshake_failures += 1
            raw.close()
            return
        self.sockets.append(tls)  # wrapping took over raw's descriptor
        upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
        self.sockets.append(upstream)

        def pipe(src, dst):
            try:
                while chunk := src.recv(65536):
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pipe, args=(upstream, tls), daemon=True)
        back.start()
        pipe(tls, upstream)
        back.join(STOP_TIMEOUT_S)
        tls.close()
        upstream.close()

    def stop(self) -> None:
        self.stopping.set()
        self.accepting.join(STOP_TIMEOUT_S)
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.threads:
            t.join(STOP_TIMEOUT_S)


@pytest.fixture
def tls_backend(tmp_path, start_mock_http) -> Iterator:
    """(start(cert_name, san) -> (url, cert path, forwarder))"""
    forwarders: list[TlsForwarder] = []
    mock = start_mock_http()

    def start(name: str = "localhost", san: str = "IP:127.0.0.1,DNS:localhost"):
        cert, key = make_certificate(tmp_path, name, san)
        f = TlsForwarder(cert, key, mock.port)
        forwarders.append(f)
        return f"https://127.0.0.1:{f.port}/mock/mcp", cert, f

    yield start
    for f in forwarders:
        f.stop()


def call_echo(proxy, text: str) -> dict:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as http:
        mcp = McpClient(proxy.url("tls"), http)
        init = mcp.initialize()  # keeps the session id
        if not mcp.session_id:
            return init.json()
        mcp.notify("notifications/initialized")
        return mcp.call_tool("echo", {"text": text})


def tls_config(url: str, **extra) -> dict:
    return {"mcpProxy": {"addr": "127.0.0.1:0"},
            "mcpServers": {"tls": {"url": url, "transportType": "streamable-http",
                                   "timeout": "20s", **extra}}}


@pytest.mark.spec("2025-11-25 basic/security_best_practices")
def test_an_https_backend_with_a_trusted_ca_file_works(start_proxy, tls_backend):
    """The certificate is checked against tlsCaFile (besides the system store) and the host."""
    url, cert, _ = tls_backend()
    proxy = start_proxy(tls_config(url, tlsCaFile=str(cert)))
    assert text_of(call_echo(proxy, "over tls")) == "over tls"


@pytest.mark.spec("2025-11-25 basic/security_best_practices")
def test_an_untrusted_certificate_is_refused_with_a_clear_error(start_proxy, tls_backend):
    """Without the CA, the handshake fails: the client gets a JSON-RPC error, the log says why."""
    url, _, forwarder = tls_backend()
    proxy = start_proxy(tls_config(url))
    reply = call_echo(proxy, "x")
    assert reply["error"]["code"] == BACKEND_UNAVAILABLE, reply
    assert "certificate verify failed" in proxy.output()
    assert forwarder.handshake_failures >= 1


@pytest.mark.spec("2025-11-25 basic/security_best_practices")
def test_a_certificate_for_another_host_is_refused(start_proxy, tls_backend):
    """RFC 6125: a trusted certificate that does not name the host (127.0.0.1) is refused."""
    url, cert, _ = tls_backend("other.example", "DNS:other.example")
    proxy = start_proxy(tls_config(url, tlsCaFile=str(cert)))
    reply = call_echo(proxy, "x")
    assert reply["error"]["code"] == BACKEND_UNAVAILABLE, reply
    assert "TLS handshake" in proxy.output()


@pytest.mark.spec("2025-11-25 basic/security_best_practices")
def test_insecure_skip_verify_accepts_any_certificate_and_says_so(start_proxy, tls_backend):
    """tlsInsecureSkipVerify is explicit and logged: the call works with an untrusted cert."""
    url, _, _ = tls_backend("other.example", "DNS:other.example")
    proxy = start_proxy(tls_config(url, tlsInsecureSkipVerify=True))
    assert text_of(call_echo(proxy, "insecure")) == "insecure"
    assert "tlsInsecureSkipVerify" in proxy.output()


def test_an_unreadable_ca_file_is_reported_at_start(start_proxy, tmp_path):
    """A tlsCaFile that cannot be read is an error naming the key; the proxy still serves."""
    proxy = start_proxy(tls_config("https://127.0.0.1:9/mcp",
                                   tlsCaFile=str(tmp_path / "missing.pem")))
    reply = call_echo(proxy, "x")
    assert reply["error"]["code"] == BACKEND_UNAVAILABLE, reply
    assert "tlsCaFile" in proxy.output()
