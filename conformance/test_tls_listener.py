"""HTTPS on the listener (issue #16 item 6: `mcpProxy.tls`), checked against real handshakes.

* Every route (/NAME/mcp, /mcp, /NAME/sse, /health) is served over TLS, to httpx, curl and the
  official TypeScript SDK client (Streamable HTTP and legacy SSE, trusting the test CA through
  NODE_EXTRA_CA_CERTS); plain HTTP on that port gets no HTTP answer, and a client that never
  finishes its handshake is dropped after headerTimeout.
* Versions: TLS 1.0 and 1.1 are refused (a local Python server shows that this machine's client
  can offer them), TLS 1.2 and 1.3 are served; with minVersion "1.3" a TLS 1.2 client is refused.
* Client certificates: with "required", no certificate or one of another CA fails the handshake;
  with "optional", a client without one is served as "peer:127.0.0.1" and one with an
  unverifiable certificate fails. A verified certificate is the identity "cert:<CN>" (else its
  first DNS name): in the audit log, for session binding (another certificate gets 404 on the
  session), as the key of per-identity limits; a route that needs a token still needs it.
* SIGHUP reloads the certificate and key for new connections (a kept-alive connection keeps
  answering with the old one); bad files are not taken, and the old certificate stays.
* Config errors refuse the start and name $.mcpProxy.tls.

Certificates are made at test time in tmp_path: the server's by oauth_fixtures.make_pki, client
certificates by a small CA here (make_pki's CA keeps its key to itself). Every proxy binds
127.0.0.1 port 0, is stopped by PID and must exit 0 on SIGTERM with no sanitizer report.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import (_SANITIZER_REPORT, HTTP_TIMEOUT_S, McpClient, ProxyProcess, SseParser,
                      mock_config, text_of, wait_until)
from oauth_fixtures import Pki, make_pki
from proxy_fleet import ProxyFleet, SentCredentials
from test_sdk_interop import (  # noqa: F401 (peers is a fixture used here)
    MOCK, MOCK_ARGS, _run_sdk_script, check_sdk_outcome, peers)

TOKEN = "tls-listener-token_Hq47Zm"
SENT = SentCredentials([TOKEN])
WAIT_S = 20.0  # an ASan build on a busy 2-core machine answers slowly
RATE_LIMITED = -32029
RELOADED = "TLS certificate and key reloaded"
NOT_RELOADED = "TLS files not reloaded"
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
MAX_RESPONSE_BYTES = 1 << 20


# --------------------------------------------------------------------------------------------
# Proxies serving https


class TlsFleet(ProxyFleet):
    """proxy_fleet's checks (exit 0 on SIGTERM, no sanitizer report, no token in the output),
    for proxies that must say https:// in their banner."""

    def start(self, config: dict) -> ProxyProcess:
        p = super().start(config)
        assert p.scheme == "https", f"banner scheme {p.scheme!r}:\n{p.output()[-2000:]}"
        return p


@pytest.fixture
def proxies(mcp_proxy_bin, tmp_path) -> Iterator[TlsFleet]:
    fleet = TlsFleet(mcp_proxy_bin, tmp_path, SENT)
    yield fleet
    problems = fleet.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems))


# --------------------------------------------------------------------------------------------
# Certificates


@dataclass(frozen=True)
class ClientCert:
    cert_file: Path
    key_file: Path


class ClientCa:
    """A CA that signs client certificates (EKU clientAuth)."""

    def __init__(self, folder: Path, name: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        now = datetime.datetime.now(datetime.timezone.utc)
        self.not_before = now - datetime.timedelta(minutes=5)
        self.not_after = now + datetime.timedelta(days=1)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} client CA")])
        cert = (x509.CertificateBuilder()
                .subject_name(self.name).issuer_name(self.name)
                .public_key(self.key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(self.not_before).not_valid_after(self.not_after)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        self.ca_file = folder / f"{name}-client-ca.pem"
        self.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, label: str, common_name: Optional[str], dns_names: tuple = ()) -> ClientCert:
        """A client certificate; without common_name the subject names only an organisation,
        so the DNS names are what identify it."""
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mcp-proxy tests")]
        if common_name is not None:
            attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name(attributes)).issuer_name(self.name)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(self.not_before).not_valid_after(self.not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                  critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.key.public_key()), critical=False))
        if dns_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(d) for d in dns_names]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = ClientCert(self.folder / f"{label}.pem", self.folder / f"{label}.key")
        issued.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
        issued.key_file.chmod(0o600)
        return issued


def unmatched_key_pem() -> bytes:
    """A private key that belongs to no certificate here."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def der_of(pem_file: Path) -> bytes:
    return x509.load_pem_x509_certificate(pem_file.read_bytes()).public_bytes(
        serialization.Encoding.DER)


@pytest.fixture
def pki(tmp_path) -> Pki:
    """The server's CA and its certificate for 127.0.0.1."""
    return make_pki(tmp_path / "pki", "server")


@dataclass
class Clients:
    ca: ClientCa
    alice: ClientCert
    bob: ClientCert
    carol: ClientCert  # no common name: DNS name carol.example
    mallory: ClientCert  # signed by another CA


@pytest.fixture
def clients(tmp_path) -> Clients:
    ca = ClientCa(tmp_path / "clients", "trusted")
    other = ClientCa(tmp_path / "other", "other")
    return Clients(ca, ca.issue("alice", "alice"), ca.issue("bob", "bob"),
                   ca.issue("carol", None, ("carol.example", "carol2.example")),
                   other.issue("mallory", "alice"))


def client_context(pki: Pki, cert: Optional[ClientCert] = None, *,
                   extra_cas: tuple = ()) -> ssl.SSLContext:
    """Verifies the server against the test CA (and extra_cas); presents `cert` if given."""
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    for ca in extra_cas:
        ctx.load_verify_locations(cafile=str(ca))
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert_file), str(cert.key_file))
    return ctx


def versioned_context(pki: Pki, lowest: ssl.TLSVersion, highest: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers only lowest..highest. TLS 1.0 and 1.1 need security level 0 in
    OpenSSL 3 (their handshake signatures use SHA-1): set, so the client really offers them."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(pki.ca_file))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSVersion.TLSv1 / TLSv1_1
        ctx.minimum_version = lowest
        ctx.maximum_version = highest
    if lowest < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def tls_config(mock_server_bin: Path, pki: Pki, *, clients: Optional[Clients] = None,
               mode: Optional[str] = None, audit: Optional[Path] = None, **tls: str) -> dict:
    """The mock (conformance fixture) at /mock, shared session mode, served over https."""
    config = mock_config(mock_server_bin, mock={"args": MOCK_ARGS, "sessionMode": "shared"})
    section = {"certFile": str(pki.cert_file), "keyFile": str(pki.key_file), **tls}
    if mode is not None:
        section["clientCertificates"] = mode
        if clients is not None:
            section["clientCaFile"] = str(clients.ca.ca_file)
    config["mcpProxy"]["tls"] = section
    if audit is not None:
        config["mcpProxy"]["auditLog"] = str(audit)
    return config


# --------------------------------------------------------------------------------------------
# Clients: HTTP/1.1 over one TLS connection, httpx, audit lines


class TlsConnection:
    """One TLS connection to the proxy; HTTP/1.1 requests on it one at a time (kept alive)."""

    def __init__(self, port: int, ctx: ssl.SSLContext):
        raw = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        except BaseException:
            raw.close()
            raise
        self._buf = b""

    def peer_der(self) -> bytes:
        return self.sock.getpeercert(binary_form=True)

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed by the proxy; received so far: {self._buf[:300]!r}")
        self._buf += chunk
        if len(self._buf) > MAX_RESPONSE_BYTES:
            raise AssertionError(f"no end to the answer: {self._buf[:300]!r}")

    def request(self, raw: bytes = HEALTH) -> tuple[int, dict, bytes]:
        """Sends a request (with Content-Length framing), returns status, headers, body."""
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self._buf:
            self._more()
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 "), lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        assert "content-length" in headers, f"no Content-Length: {lines}"
        length = int(headers["content-length"])
        while len(self._buf) < length:
            self._more()
        body, self._buf = self._buf[:length], self._buf[length:]
        return int(lines[0].split()[1]), headers, body

    def close(self) -> None:
        self.sock.close()


def health_over_tls(port: int, ctx: ssl.SSLContext) -> tuple[Optional[int], str]:
    """GET /health on a new connection: (status, TLS version) when answered, (None, why) when
    the handshake or the connection failed before an HTTP answer. In TLS 1.3 the server checks
    the client's certificate after the client has finished its side of the handshake, so a
    refusal may only show when the answer is read: both count as "not served"."""
    try:
        c = TlsConnection(port, ctx)
    except (ssl.SSLError, OSError) as e:
        return None, f"handshake: {type(e).__name__}: {e}"
    try:
        status, _, _ = c.request()
        return status, c.sock.version() or ""
    except (ssl.SSLError, OSError) as e:
        return None, f"after the client's handshake ({c.sock.version()}): {type(e).__name__}: {e}"
    finally:
        c.close()


def assert_refused(port: int, ctx: ssl.SSLContext, what: str) -> str:
    status, why = health_over_tls(port, ctx)
    assert status is None, f"{what}: served (HTTP {status} over {why}), expected a failed handshake"
    return why


def assert_served(port: int, ctx: ssl.SSLContext, what: str) -> str:
    status, version = health_over_tls(port, ctx)
    assert status == 200, f"{what}: not served: {version}"
    return version


def https_client(ctx: ssl.SSLContext) -> httpx.Client:
    return httpx.Client(verify=ctx, timeout=HTTP_TIMEOUT_S, trust_env=False)


class Client(McpClient):
    """A Streamable HTTP client with optional extra headers on every request."""

    def __init__(self, url: str, http: httpx.Client, extra: Optional[dict] = None):
        super().__init__(url, http)
        self.extra = extra or {}

    def headers(self, session=None, extra: Optional[dict] = None) -> dict:
        return super().headers(session, {**self.extra, **(extra or {})})


def tools_list(c: McpClient, session=None) -> tuple[int, object]:
    """tools/list: (HTTP status, the reply)."""
    rid = c.next_id()
    reply = c.post({"jsonrpc": "2.0", "id": rid, "method": "tools/list"}, session=session)
    return reply.status, reply


def audit_lines(path: Path) -> list[dict]:
    """The audit log's lines of requests (were a notification logged, it is left out here)."""
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [x for x in lines if not str(x.get("method", "")).startswith("notifications/")]


def wait_for_audit(path: Path, count: int) -> list[dict]:
    """The audit lines, once there are at least `count` (bounded wait)."""
    wait_until(lambda: len(audit_lines(path)) >= count, WAIT_S)
    lines = audit_lines(path)
    assert len(lines) >= count, f"{len(lines)} audit lines, expected {count}: {lines}"
    return lines


def wait_for_log(proxy: ProxyProcess, text: str, count: int = 1) -> None:
    ok = wait_until(lambda: proxy.output().count(text) >= count, WAIT_S, 0.05)
    assert ok, f"no {text!r} (#{count}) in the proxy's log:\n{proxy.output()[-3000:]}"


# --------------------------------------------------------------------------------------------
# 1. HTTPS serves every route; plain HTTP gets nothing


def test_https_serves_the_server_route_the_merged_endpoint_and_health(proxies, mock_server_bin,
                                                                      pki):
    proxy = proxies.start(tls_config(mock_server_bin, pki))
    wait_for_log(proxy, f"server mock: https://127.0.0.1:{proxy.port}/mock/mcp")
    with https_client(pki.client_context()) as http:
        health = http.get(f"{proxy.base_url}/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}, health.text
        for url, tool in ((proxy.url("mock"), "echo"), (f"{proxy.base_url}/mcp", "mock__echo")):
            c = McpClient(url, http).open_session()
            assert c.session_id, url
            listed = c.request("tools/list")
            assert tool in [t["name"] for t in listed["result"]["tools"]], listed
            said = c.call_tool(tool, {"text": f"over https to {url}"})
            assert text_of(said) == f"over https to {url}"
            assert c.delete().status_code in (200, 204), url
        # Legacy SSE (2024-11-05): the stream's first event names the message endpoint.
        with http.stream("GET", f"{proxy.base_url}/mock/sse",
                         headers={"Accept": "text/event-stream"}) as r:
            assert r.status_code == 200, r.status_code
            parser, events = SseParser(), []
            for chunk in r.iter_text():
                events += parser.feed(chunk)
                if events:
                    break
            assert events and events[0].event == "endpoint", events
            assert events[0].data.startswith("/mock/message?sessionId="), events[0]


def test_plain_http_on_the_https_port_gets_no_http_answer(proxies, mock_server_bin, pki):
    proxy = proxies.start(tls_config(mock_server_bin, pki))
    # httpx: a transport error (the connection is closed, or what comes back is no HTTP).
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as http:
        with pytest.raises(httpx.TransportError):
            http.get(f"http://127.0.0.1:{proxy.port}/health")
    # The bytes themselves: whatever comes back before the close is not an HTTP answer.
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=HTTP_TIMEOUT_S) as s:
        s.sendall(HEALTH)
        got = b""
        try:
            while len(got) < MAX_RESPONSE_BYTES:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
    assert not got.startswith(b"HTTP/"), got[:300]
    # And the listener still serves TLS clients.
    assert_served(proxy.port, pki.client_context(), "a TLS client after the plain one")


def test_a_client_that_never_finishes_its_handshake_is_dropped_after_header_timeout(
        proxies, mock_server_bin, pki):
    config = tls_config(mock_server_bin, pki)
    config["mcpProxy"]["headerTimeout"] = "1s"
    proxy = proxies.start(config)
    # A silent connection, and one that sent the first bytes of a TLS record and stalled.
    for first_bytes in (b"", b"\x16\x03\x01\x02\x00\x01"):
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as s:
            if first_bytes:
                s.sendall(first_bytes)
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                got = b""
            except TimeoutError:
                pytest.fail(f"a stalled handshake ({first_bytes!r}) still open after 30 s")
            assert not got.startswith(b"HTTP/"), got[:300]
    assert_served(proxy.port, pki.client_context(), "a TLS client after the stalled ones")


# --------------------------------------------------------------------------------------------
# 2. curl


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--noproxy", "*", "--max-time", "30", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def messages_of(body: str) -> list:
    """JSON-RPC messages of an answer, JSON or an event stream."""
    text = body.strip()
    if text.startswith("{") or text.startswith("["):
        parsed = json.loads(text)
        return parsed if isinstance(parsed, list) else [parsed]
    events = SseParser().feed(body if body.endswith("\n\n") else body + "\n\n")
    return [json.loads(e.data) for e in events if e.data]


def test_curl_over_https(proxies, mock_server_bin, pki):
    proxy = proxies.start(tls_config(mock_server_bin, pki))
    done = curl("--cacert", str(pki.ca_file), f"{proxy.base_url}/health")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "ok"}, done.stdout

    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                             "clientInfo": {"name": "curl", "version": "1"}}}
    done = curl("--cacert", str(pki.ca_file), "-X", "POST",
                "-H", "Content-Type: application/json",
                "-H", "Accept: application/json, text/event-stream",
                "--data", json.dumps(initialize), proxy.url("mock"))
    assert done.returncode == 0, done.stderr
    answer = [m for m in messages_of(done.stdout) if m.get("id") == 1]
    assert answer and "result" in answer[0], done.stdout
    assert answer[0]["result"]["serverInfo"]["name"] == MOCK.server_name, answer

    # Without the CA curl does not trust the certificate (exit 60); plain http gets nothing
    # (52: empty reply, or 56: failure receiving).
    untrusted = curl(f"{proxy.base_url}/health")
    assert untrusted.returncode == 60, (untrusted.returncode, untrusted.stderr)
    plain = curl(f"http://127.0.0.1:{proxy.port}/health")
    assert plain.returncode != 0 and not plain.stdout, (plain.returncode, plain.stdout,
                                                        plain.stderr)


# --------------------------------------------------------------------------------------------
# 3. The official SDK client over https


@pytest.mark.parametrize("transport,path", [("http", "mcp"), ("sse", "sse")])
def test_official_sdk_client_over_https(peers, proxies, mock_server_bin, pki, tmp_path,
                                        transport, path):
    """The SDK's Streamable HTTP and legacy SSE client transports (Node's fetch), trusting the
    test CA through NODE_EXTRA_CA_CERTS: the whole check_sdk_outcome run; without the CA the
    client fails (the connection really is verified TLS)."""
    proxy = proxies.start(tls_config(mock_server_bin, pki))
    url = f"{proxy.base_url}/mock/{path}"
    args = ["--transport", transport, url, MOCK.tool, json.dumps(MOCK.arguments)]
    try:
        out = _run_sdk_script(peers, args, extra_env={"NODE_EXTRA_CA_CERTS": str(pki.ca_file)})
        check_sdk_outcome(out, MOCK, transport, "mock")
    except AssertionError as e:
        raise AssertionError(
            f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-3000:]}") from None
    # Trusting another CA only, the same client fails.
    stranger = make_pki(tmp_path / "stranger", "stranger")
    with pytest.raises(AssertionError, match="exited"):
        _run_sdk_script(peers, args, extra_env={"NODE_EXTRA_CA_CERTS": str(stranger.ca_file)})


# --------------------------------------------------------------------------------------------
# 4. TLS versions


class OldTlsServer:
    """A local server that accepts TLS 1.0 to 1.3 with the test certificate: the control that
    shows the client here can offer the old versions, so a refusal is the proxy's."""

    def __init__(self, pki: Pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.ctx.minimum_version = ssl.TLSVersion.TLSv1
        self.ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        self.ctx.load_cert_chain(str(pki.cert_file), str(pki.key_file))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(HTTP_TIMEOUT_S)
        self.port = self.listener.getsockname()[1]

    def handshake_with(self, client_ctx: ssl.SSLContext) -> Optional[str]:
        """The version a client with client_ctx negotiates here, None if it cannot."""
        result: list = []

        def serve() -> None:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.settimeout(HTTP_TIMEOUT_S)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as s:
                    s.recv(1)
            except (ssl.SSLError, OSError):
                conn.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=HTTP_TIMEOUT_S) as r:
                with client_ctx.wrap_socket(r, server_hostname="127.0.0.1") as s:
                    result.append(s.version())
        except (ssl.SSLError, OSError):
            result.append(None)
        t.join(HTTP_TIMEOUT_S + 5)
        return result[0]

    def close(self) -> None:
        self.listener.close()


OLD_VERSIONS = [pytest.param(ssl.TLSVersion.TLSv1, "TLSv1", id="TLS1.0"),
                pytest.param(ssl.TLSVersion.TLSv1_1, "TLSv1.1", id="TLS1.1")]


@pytest.mark.parametrize("old,name", OLD_VERSIONS)
def test_tls_1_0_and_1_1_are_refused_1_2_and_1_3_served(proxies, mock_server_bin, pki, old, name):
    proxy = proxies.start(tls_config(mock_server_bin, pki))
    old_client = versioned_context(pki, old, old)
    control = OldTlsServer(pki)
    try:
        assert control.handshake_with(old_client) == name, (
            f"this machine's OpenSSL does not offer {name}: the refusal below proves less")
    finally:
        control.close()
    why = assert_refused(proxy.port, old_client, f"a {name}-only client")
    assert "handshake" in why, why
    # A client offering 1.0 to 1.2 gets 1.2: the proxy never settles for less.
    assert assert_served(proxy.port, versioned_context(pki, old, ssl.TLSVersion.TLSv1_2),
                         f"a {name}..1.2 client") == "TLSv1.2"
    assert assert_served(proxy.port, versioned_context(pki, ssl.TLSVersion.TLSv1_2,
                                                       ssl.TLSVersion.TLSv1_2),
                         "a TLS 1.2 client") == "TLSv1.2"
    assert assert_served(proxy.port, pki.client_context(), "a default client") == "TLSv1.3"


def test_min_version_1_3_refuses_tls_1_2(proxies, mock_server_bin, pki):
    proxy = proxies.start(tls_config(mock_server_bin, pki, minVersion="1.3"))
    tls12 = ssl.TLSVersion.TLSv1_2
    assert_refused(proxy.port, versioned_context(pki, tls12, tls12), "a TLS 1.2-only client")
    tls13 = ssl.TLSVersion.TLSv1_3
    assert assert_served(proxy.port, versioned_context(pki, tls13, tls13),
                         "a TLS 1.3-only client") == "TLSv1.3"
    assert assert_served(proxy.port, versioned_context(pki, tls12, tls13),
                         "a TLS 1.2..1.3 client") == "TLSv1.3"


# --------------------------------------------------------------------------------------------
# 5, 6. Client certificates: required and optional; the identity they give


def test_required_client_certificates(proxies, mock_server_bin, pki, clients, tmp_path):
    audit = tmp_path / "audit.jsonl"
    proxy = proxies.start(tls_config(mock_server_bin, pki, clients=clients, mode="required",
                                     audit=audit))
    assert_refused(proxy.port, client_context(pki), "a client without a certificate")
    assert_refused(proxy.port, client_context(pki, clients.mallory),
                   "a certificate of another CA (with CN alice)")
    assert_served(proxy.port, client_context(pki, clients.alice), "alice's certificate")

    url = proxy.url("mock")
    with https_client(client_context(pki, clients.alice)) as alice_http, \
            https_client(client_context(pki, clients.bob)) as bob_http:
        alice = McpClient(url, alice_http).open_session()
        assert text_of(alice.call_tool("echo", {"text": "from alice"})) == "from alice"
        assert alice.request("tools/list")["result"]["tools"]

        # Bob's certificate is valid, but alice's session is bound to cert:alice.
        bob = McpClient(url, bob_http)
        bob.protocol_version = alice.protocol_version
        status, reply = tools_list(bob, session=alice.session_id)
        assert status == 404, f"bob on alice's session: HTTP {status} {reply.body[:300]!r}"
        bob.open_session()
        assert bob.request("tools/list")["result"]["tools"]
        # Alice's session is unharmed.
        assert text_of(alice.call_tool("echo", {"text": "still alice"})) == "still alice"

    lines = wait_for_audit(audit, 6)  # alice: 4 requests, bob: initialize and tools/list
    for line in lines:
        assert {"time", "identity", "route", "method", "outcome", "ms"} <= line.keys(), line
    alice_lines = [x for x in lines if x["identity"] == "cert:alice"]
    assert sorted(x["method"] for x in alice_lines) == [
        "initialize", "tools/call", "tools/call", "tools/list"], lines
    assert all(x["route"] == "mock" and x["outcome"] == "ok" for x in alice_lines), alice_lines
    assert [x["target"] for x in alice_lines if x["method"] == "tools/call"] == ["echo", "echo"]
    bob_lines = [x for x in lines if x["identity"] == "cert:bob"]
    assert {x["method"] for x in bob_lines} >= {"initialize", "tools/list"}, lines
    assert {x["identity"] for x in lines} <= {"cert:alice", "cert:bob"}, lines


def test_optional_client_certificates(proxies, mock_server_bin, pki, clients, tmp_path):
    audit = tmp_path / "audit.jsonl"
    proxy = proxies.start(tls_config(mock_server_bin, pki, clients=clients, mode="optional",
                                     audit=audit))
    assert_refused(proxy.port, client_context(pki, clients.mallory),
                   "an unverifiable certificate")
    url = proxy.url("mock")
    expected = []
    for who, cert in (("peer:127.0.0.1", None), ("cert:alice", clients.alice),
                      ("cert:carol.example", clients.carol)):
        with https_client(client_context(pki, cert)) as http:
            c = McpClient(url, http).open_session()
            assert text_of(c.call_tool("echo", {"text": who})) == who
        expected += [(who, "initialize"), (who, "tools/call")]
    lines = wait_for_audit(audit, len(expected))
    assert sorted((x["identity"], x["method"]) for x in lines) == sorted(expected), lines


# --------------------------------------------------------------------------------------------
# 7. Limits keyed by the certificate's identity


def test_limits_per_certificate_identity(proxies, mock_server_bin, pki, clients):
    config = tls_config(mock_server_bin, pki, clients=clients, mode="required")
    config["mcpProxy"]["limits"] = {
        "requestsPerSecond": 1000,
        "identities": {"cert:alice": {"requestsPerSecond": 0.01, "requestBurst": 2}}}
    proxy = proxies.start(config)
    url = proxy.url("mock")
    with https_client(client_context(pki, clients.alice)) as alice_http, \
            https_client(client_context(pki, clients.bob)) as bob_http:
        alice = McpClient(url, alice_http).open_session()  # initialize: the first token
        status, reply = tools_list(alice)  # the second
        assert status == 200, reply.body[:300]
        status, reply = tools_list(alice)  # the third: refused
        assert status == 429, f"alice's third request: HTTP {status} {reply.body[:300]!r}"
        retry_after = reply.headers.get("retry-after")
        assert retry_after and retry_after.isdigit() and int(retry_after) > 0, reply.headers
        error = reply.messages[0]["error"]
        assert error["code"] == RATE_LIMITED, error

        bob = McpClient(url, bob_http).open_session()
        for i in range(5):
            status, reply = tools_list(bob)
            assert status == 200, f"bob's request {i + 2}: HTTP {status} {reply.body[:300]!r}"


# --------------------------------------------------------------------------------------------
# 8. A certificate does not replace a token


def test_a_route_that_needs_a_token_still_needs_it_with_a_certificate(proxies, mock_server_bin,
                                                                      pki, clients, tmp_path):
    audit = tmp_path / "audit.jsonl"
    config = tls_config(mock_server_bin, pki, clients=clients, mode="required", audit=audit)
    config["mcpProxy"]["options"] = {"authTokens": [{"name": "ci", "token": TOKEN}]}
    proxy = proxies.start(config)
    with https_client(client_context(pki, clients.alice)) as http:
        for url in (proxy.url("mock"), f"{proxy.base_url}/mcp"):
            reply = McpClient(url, http).initialize()
            assert reply.status == 401, f"{url} with alice's certificate, no token: " \
                                        f"HTTP {reply.status} {reply.body[:300]!r}"
            assert reply.headers.get("www-authenticate", "").lower().startswith("bearer"), \
                reply.headers
        c = Client(proxy.url("mock"), http, SENT.bearer(TOKEN)).open_session()
        assert text_of(c.call_tool("echo", {"text": "token and certificate"})) == \
            "token and certificate"
    # With a token, the token names the caller.
    lines = [x for x in wait_for_audit(audit, 2) if x["outcome"] == "ok"]
    assert sorted((x["identity"], x["method"]) for x in lines) == [
        ("token:ci", "initialize"), ("token:ci", "tools/call")], lines
    # The token does not replace the certificate either (it is required at the handshake).
    assert_refused(proxy.port, client_context(pki), "a client without a certificate")


# --------------------------------------------------------------------------------------------
# 9. SIGHUP reloads the files


def test_sighup_reloads_the_certificate_for_new_connections(proxies, mock_server_bin, tmp_path):
    a = make_pki(tmp_path / "a", "a")
    b = make_pki(tmp_path / "b", "b")
    served = Pki(a.ca_file, tmp_path / "server.pem", tmp_path / "server.key")
    served.cert_file.write_bytes(a.cert_file.read_bytes())
    served.key_file.write_bytes(a.key_file.read_bytes())
    served.key_file.chmod(0o600)
    proxy = proxies.start(tls_config(mock_server_bin, served))
    trust_both = client_context(a, extra_cas=(b.ca_file,))
    der_a, der_b = der_of(a.cert_file), der_of(b.cert_file)
    assert der_a != der_b

    kept = TlsConnection(proxy.port, trust_both)
    try:
        assert kept.peer_der() == der_a
        assert kept.request()[0] == 200
        with https_client(trust_both) as http:
            session = McpClient(proxy.url("mock"), http).open_session()

            # Certificate B replaces A on disk; SIGHUP.
            served.cert_file.write_bytes(b.cert_file.read_bytes())
            served.key_file.write_bytes(b.key_file.read_bytes())
            os.kill(proxy.proc.pid, signal.SIGHUP)
            wait_for_log(proxy, RELOADED)
            fresh = TlsConnection(proxy.port, trust_both)
            try:
                assert fresh.peer_der() == der_b, "a new connection after the reload still got A"
                assert fresh.request()[0] == 200
            finally:
                fresh.close()
            # Only B's CA: verifies; only A's CA: the new certificate is not trusted.
            assert_served(proxy.port, client_context(b), "a client trusting only B's CA")
            assert_refused(proxy.port, client_context(a), "a client trusting only A's CA")
            # The connection made before the reload goes on, with A.
            assert kept.request()[0] == 200, "the kept-alive connection stopped answering"
            assert kept.peer_der() == der_a
            # So does the MCP session (its next request may use a new connection).
            assert text_of(session.call_tool("echo", {"text": "after reload"})) == "after reload"

            # A key that does not match B: not reloaded, B stays.
            served.key_file.write_bytes(unmatched_key_pem())
            os.kill(proxy.proc.pid, signal.SIGHUP)
            wait_for_log(proxy, NOT_RELOADED)
            assert proxy.output().count(RELOADED) == 1, proxy.output()[-3000:]
            assert proxy.proc.poll() is None, "the proxy exited on a bad reload"
            fresh = TlsConnection(proxy.port, trust_both)
            try:
                assert fresh.peer_der() == der_b, "after a failed reload, not B"
                assert fresh.request()[0] == 200
            finally:
                fresh.close()
            assert kept.request()[0] == 200
            assert text_of(session.call_tool("echo", {"text": "after bad reload"})) == \
                "after bad reload"

            # A certificate file that is no certificate: not reloaded either.
            served.key_file.write_bytes(b.key_file.read_bytes())
            served.cert_file.write_text("not a certificate\n")
            os.kill(proxy.proc.pid, signal.SIGHUP)
            wait_for_log(proxy, NOT_RELOADED, 2)
            assert proxy.proc.poll() is None, "the proxy exited on a bad reload"
            assert_served(proxy.port, client_context(b), "B after the second failed reload")
    finally:
        kept.close()


# --------------------------------------------------------------------------------------------
# 10. Config errors


def _config_error_cases(tmp_path: Path, pki: Pki, clients: Clients) -> dict:
    other_key = tmp_path / "other.key"
    other_key.write_bytes(unmatched_key_pem())
    other_key.chmod(0o600)
    not_a_cert = tmp_path / "garbage.pem"
    not_a_cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                          "-----END CERTIFICATE-----\n")
    cert, key, ca = str(pki.cert_file), str(pki.key_file), str(clients.ca.ca_file)
    # id -> (the tls section, a pattern the error must hold besides the path)
    return {
        "missing-keyFile": ({"certFile": cert}, "keyFile"),
        "missing-certFile": ({"keyFile": key}, "certFile"),
        "absent-certFile": ({"certFile": str(tmp_path / "absent.pem"), "keyFile": key},
                            r"certFile: no such file"),
        "absent-keyFile": ({"certFile": cert, "keyFile": str(tmp_path / "absent.key")},
                           r"keyFile: no such file"),
        "key-mismatch": ({"certFile": cert, "keyFile": str(other_key)},
                         r"mismatch|does not match"),
        "garbage-certFile": ({"certFile": str(not_a_cert), "keyFile": key}, "certFile"),
        "required-without-ca": ({"certFile": cert, "keyFile": key,
                                 "clientCertificates": "required"}, "clientCaFile"),
        "optional-without-ca": ({"certFile": cert, "keyFile": key,
                                 "clientCertificates": "optional"}, "clientCaFile"),
        "bad-clientCertificates": ({"certFile": cert, "keyFile": key,
                                    "clientCertificates": "sometimes", "clientCaFile": ca},
                                   "sometimes"),
        "minVersion-1.1": ({"certFile": cert, "keyFile": key, "minVersion": "1.1"},
                           r"minVersion.*1\.1"),
        "minVersion-1.0": ({"certFile": cert, "keyFile": key, "minVersion": "1.0"},
                           r"minVersion.*1\.0"),
        "tls-not-an-object": ("yes", ""),
    }


CONFIG_ERROR_IDS = ["missing-keyFile", "missing-certFile", "absent-certFile", "absent-keyFile",
                    "key-mismatch", "garbage-certFile", "required-without-ca",
                    "optional-without-ca", "bad-clientCertificates", "minVersion-1.1",
                    "minVersion-1.0", "tls-not-an-object"]


@pytest.mark.parametrize("case", CONFIG_ERROR_IDS)
def test_bad_tls_settings_refuse_the_start(mcp_proxy_bin, mock_server_bin, pki, clients,
                                           tmp_path, case):
    section, detail = _config_error_cases(tmp_path, pki, clients)[case]
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["tls"] = section
    file = tmp_path / "config.json"
    file.write_text(json.dumps(config))
    done = subprocess.run([str(mcp_proxy_bin), "--config", str(file), "--addr", "127.0.0.1:0"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    said = done.stdout + done.stderr
    assert done.returncode > 0, (done.returncode, said[-2000:])
    assert "listening on" not in said, said[-2000:]
    assert "$.mcpProxy.tls" in done.stderr, done.stderr[-2000:]
    assert re.search(detail, done.stderr), (detail, done.stderr[-2000:])
    assert not _SANITIZER_REPORT.search(said), said[-4000:]
