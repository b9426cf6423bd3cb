"""Test doubles of an OAuth 2.1 authorization server for test_oauth.py: signing keys and JWK sets,
token minting (valid, expired, forged), a throw-away PKI, a JWKS server over https and an RFC 7662
introspection endpoint, and a parser of WWW-Authenticate challenges.

Everything is made here, at test time, with Debian's python3-cryptography and python3-jwt
(PyJWT): no key, certificate or token is checked in. The servers are http.server on
127.0.0.1:<ephemeral port>, each request handled in a thread with a socket timeout, and `close()`
stops the listener and joins every handler thread, so every wait here is bounded.

* `SigningKey` / `make_key(alg, kid)`: a private key for one JWS alg (RS256 and PS256: RSA 2048,
  ES256: P-256, EdDSA: Ed25519), its public JWK (RFC 7517, with kid, alg and use) and `sign()`.
* `claims(aud, ...)`: an access token's claims (RFC 9068: iss, sub, aud, exp, iat, jti, scope).
* `unsigned_token` (alg none), `hs256_token` (an HMAC token, e.g. keyed with an RSA public key's
  PEM: the key-confusion attack), `tamper`: tokens PyJWT refuses to make.
* `Pki`: a CA and a server certificate for 127.0.0.1 (IP SAN) signed by it.
* `JwksServer`: GET /jwks.json answers the set it is given now (`serve`) or an error status
  (`fail_with`); it counts fetches and TLS handshakes that failed.
* `IntrospectionServer`: POST /introspect, checks HTTP Basic client credentials and the form,
  answers from a table (unknown tokens are inactive) and counts calls per token.
* `parse_challenges` / `bearer_params`: WWW-Authenticate after RFC 9110 section 11.2.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import re
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, unquote_plus

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ISSUER = "https://as.conformance.example"
HANDLER_TIMEOUT_S = 10.0  # a silent peer frees its handler thread after this
JOIN_TIMEOUT_S = 15.0


# --------------------------------------------------------------------------------------------
# Keys, JWKs and tokens


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


@dataclass
class SigningKey:
    alg: str  # the JWS alg this key signs with
    kid: str
    private: Any  # a cryptography private key

    @property
    def public(self) -> Any:
        return self.private.public_key()

    def public_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self) -> dict:
        """The public key as a JWK (RFC 7517, 7518 section 6, RFC 8037), with kid, alg, use."""
        if isinstance(self.private, rsa.RSAPrivateKey):
            key = json.loads(RSAAlgorithm.to_jwk(self.public))
        elif isinstance(self.private, ec.EllipticCurvePrivateKey):
            key = json.loads(ECAlgorithm.to_jwk(self.public))
        elif isinstance(self.private, ed25519.Ed25519PrivateKey):
            key = json.loads(OKPAlgorithm.to_jwk(self.public))
        else:
            raise TypeError(f"no JWK for {type(self.private).__name__}")
        # No private member may leak into a published set.
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys(), key
        key.update(kid=self.kid, alg=self.alg, use="sig")
        return key

    def sign(self, payload: dict, *, alg: Optional[str] = None, kid: Any = "",
             headers: Optional[dict] = None) -> str:
        """A compact JWS of `payload` signed with this key. `kid` defaults to this key's own;
        None leaves kid out; another string names another (or no) key."""
        hdr = dict(headers or {})
        if kid is not None:
            hdr["kid"] = self.kid if kid == "" else kid
        return jwt.encode(payload, self.private, algorithm=alg or self.alg, headers=hdr)


def make_key(alg: str, kid: Optional[str] = None) -> SigningKey:
    if alg in ("RS256", "PS256"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"no key type for {alg}")
    return SigningKey(alg, kid or f"{alg.lower()}-{uuid.uuid4().hex[:12]}", private)


def jwks_of(*keys: SigningKey) -> dict:
    return {"keys": [k.jwk() for k in keys]}


def claims(aud: Any, *, iss: str = ISSUER, scope: Optional[str] = None, lifetime_s: int = 600,
           sub: str = "alice", **extra: Any) -> dict:
    """An access token's claims (RFC 9068 section 2.2), valid for lifetime_s from now.
    A keyword set to None removes that claim (exp=None: no exp)."""
    now = int(time.time())
    c: dict = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "exp": now + lifetime_s,
               "jti": uuid.uuid4().hex, "client_id": "conformance-client"}
    if scope is not None:
        c["scope"] = scope
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def unsigned_token(payload: dict, header: Optional[dict] = None) -> str:
    """An Unsecured JWS (RFC 7519 section 6): alg none and an empty signature."""
    hdr = {"alg": "none", "typ": "JWT", **(header or {})}
    return f"{b64url_json(hdr)}.{b64url_json(payload)}."


def hs256_token(secret: bytes, payload: dict, header: Optional[dict] = None) -> str:
    """An HS256 JWS keyed with `secret`, made by hand: PyJWT refuses PEM keys as HMAC secrets,
    which is exactly the key-confusion token a verifier must refuse."""
    hdr = {"alg": "HS256", "typ": "JWT", **(header or {})}
    signing_input = f"{b64url_json(hdr)}.{b64url_json(payload)}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def tamper(token: str, **changes: Any) -> str:
    """The token with claims changed and its original signature kept (so it no longer verifies)."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    body = json.loads(base64.urlsafe_b64decode(padded))
    body.update(changes)
    return f"{header}.{b64url_json(body)}.{signature}"


def token_parts(token: str) -> list[str]:
    """The parts of a token long enough that seeing one in a log means the token leaked."""
    return [p for p in token.split(".") if len(p) >= 16] or [token]


# --------------------------------------------------------------------------------------------
# A throw-away PKI


@dataclass
class Pki:
    ca_file: Path  # the CA certificate (PEM): what the proxy is given as caFile
    cert_file: Path  # the server certificate for 127.0.0.1
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_pki(folder: Path, name: str = "test") -> Pki:
    """A CA (valid one day) and a server certificate for IP 127.0.0.1 and DNS localhost signed
    by it; the server certificate's key is never the CA's."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"mcp-proxy {name} CA")])
    ca_cert = (x509.CertificateBuilder()
               .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=True, crl_sign=True,
                                            encipher_only=False, decipher_only=False),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))

    pki = Pki(folder / f"{name}-ca.pem", folder / f"{name}-server.pem",
              folder / f"{name}-server.key")
    pki.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    pki.key_file.chmod(0o600)
    return pki


# --------------------------------------------------------------------------------------------
# A small threaded HTTP(S) server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads (each bounded by its timeout)

    def __init__(self, owner: "_TestServer", context: Optional[ssl.SSLContext]):
        self.owner = owner
        self.context = context
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.context is not None:
            # The handshake happens in the handler's thread (first read), never in the accept
            # loop: a peer that stalls it cannot stop the server from accepting.
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address) -> None:
        self.owner._note_error()


class _Handler(BaseHTTPRequestHandler):
    timeout = HANDLER_TIMEOUT_S
    protocol_version = "HTTP/1.0"  # one request a connection: nothing idles in a handler
    server_version = "oauth-test"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as e:
                self.server.owner._note_tls_failure(e)
                raise

    def do_GET(self) -> None:
        self.server.owner._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.owner._serve(self, "POST")

    def reply(self, status: int, body: Any, content_type: str = "application/json",
              headers: Optional[dict] = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class _TestServer:
    """Shared plumbing: listener, serve thread, lock/condition, close()."""

    def __init__(self, name: str, context: Optional[ssl.SSLContext]):
        self.scheme = "https" if context is not None else "http"
        self._cond = threading.Condition()
        self.handler_errors = 0
        self.tls_failures: list[str] = []
        self._httpd = _Server(self, context)
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"{name}-{self.port}", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def origin(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 15.0) -> bool:
        """Waits until predicate() (called under the lock) holds; False after timeout_s."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout_s)

    def _note_error(self) -> None:
        with self._cond:
            self.handler_errors += 1
            self._cond.notify_all()

    def _note_tls_failure(self, e: Exception) -> None:
        with self._cond:
            self.tls_failures.append(f"{type(e).__name__}: {e}")
            self._cond.notify_all()

    def _serve(self, h: _Handler, method: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()  # returns once serve_forever has seen the flag (50 ms polls)
        self._httpd.server_close()  # closes the listener and joins the handler threads
        self._thread.join(JOIN_TIMEOUT_S)


class JwksServer(_TestServer):
    """GET /jwks.json over https (or plain http without a context) answers what `serve` or
    `fail_with` set last. Every GET of /jwks.json is counted (`fetches`, monotonic times)."""

    PATH = "/jwks.json"

    def __init__(self, jwks: Optional[dict] = None, context: Optional[ssl.SSLContext] = None):
        self._jwks: dict = jwks if jwks is not None else {"keys": []}
        self._status = 200
        self.fetches: list[float] = []
        self.user_agents: list[str] = []
        super().__init__("jwks-server", context)

    @property
    def url(self) -> str:
        return f"{self.origin}{self.PATH}"

    def serve(self, jwks: dict) -> None:
        with self._cond:
            self._jwks, self._status = jwks, 200

    def fail_with(self, status: int) -> None:
        with self._cond:
            self._status = status

    def fetch_count(self) -> int:
        with self._cond:
            return len(self.fetches)

    def fetch_times(self) -> list[float]:
        with self._cond:
            return list(self.fetches)

    def _serve(self, h: _Handler, method: str) -> None:
        path = h.path.split("?", 1)[0]
        if method != "GET" or path != self.PATH:
            h.reply(404, {"error": "not found"})
            return
        with self._cond:
            self.fetches.append(time.monotonic())
            self.user_agents.append(h.headers.get("User-Agent", ""))
            status, jwks = self._status, self._jwks
            self._cond.notify_all()
        if status == 200:
            h.reply(200, jwks, "application/jwk-set+json")
        else:
            h.reply(status, b"<html>unavailable</html>", "text/html")


@dataclass
class IntrospectionCall:
    token: str
    form: dict  # name -> [values]
    at: float = field(default_factory=time.monotonic)


class IntrospectionServer(_TestServer):
    """An RFC 7662 endpoint at POST /introspect. Each request must carry HTTP Basic credentials
    of (client_id, client_secret) (RFC 6749 section 2.3.1: each form-urlencoded, then base64) and
    an application/x-www-form-urlencoded body with exactly one `token` and, if any, a
    token_type_hint of access_token. A request that breaks a rule is answered 401 or 400 and
    recorded in `errors` (the test fails on them). Tokens in `answers` get their answer; any other
    is inactive (section 2.2: {"active": false})."""

    PATH = "/introspect"

    def __init__(self, client_id: str, client_secret: str,
                 context: Optional[ssl.SSLContext] = None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.answers: dict[str, dict] = {}
        self.calls: list[IntrospectionCall] = []
        self.errors: list[str] = []
        super().__init__("introspection", context)

    @property
    def url(self) -> str:
        return f"{self.origin}{self.PATH}"

    def answer(self, token: str, response: dict) -> None:
        with self._cond:
            self.answers[token] = response

    def count(self, token: str) -> int:
        with self._cond:
            return sum(1 for c in self.calls if c.token == token)

    def calls_of(self, token: str) -> list[IntrospectionCall]:
        with self._cond:
            return [c for c in self.calls if c.token == token]

    def _refuse(self, h: _Handler, status: int, why: str, error: str) -> None:
        with self._cond:
            self.errors.append(why)
            self._cond.notify_all()
        extra = {"WWW-Authenticate": 'Basic realm="introspection"'} if status == 401 else None
        h.reply(status, {"error": error, "error_description": why}, headers=extra)

    def _serve(self, h: _Handler, method: str) -> None:
        path = h.path.split("?", 1)[0]
        if method != "POST" or path != self.PATH:
            h.reply(404, {"error": "not found"})
            return
        form = read_client_form(h, self.client_id, self.client_secret, self._refuse)
        if form is None:
            return
        tokens = form.get("token", [])
        hints = form.get("token_type_hint", [])
        if len(tokens) != 1 or not tokens[0]:
            self._refuse(h, 400, f"{len(tokens)} token parameters", "invalid_request")
            return
        if hints and hints != ["access_token"]:
            self._refuse(h, 400, f"token_type_hint {hints!r}", "invalid_request")
            return
        with self._cond:
            self.calls.append(IntrospectionCall(tokens[0], form))
            answer = self.answers.get(tokens[0], {"active": False})
            self._cond.notify_all()
        h.reply(200, answer)


def read_client_form(h: "_Handler", client_id: str, client_secret: str,
                     refuse: Callable[["_Handler", int, str, str], None]) -> Optional[dict]:
    """The form of an OAuth endpoint's POST (introspection, token) from a client authenticated
    with HTTP Basic (RFC 6749 section 2.3.1: id and secret form-urlencoded); None after `refuse`
    answered a wrong client (401 invalid_client) or a body that is no form (400)."""
    length = int(h.headers.get("Content-Length") or 0)
    body = h.rfile.read(length) if 0 < length <= 65536 else b""
    scheme, _, b64 = h.headers.get("Authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(b64.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    user, sep, password = decoded.partition(":")
    if scheme.lower() != "basic" or not sep or (unquote_plus(user), unquote_plus(password)) != (
            client_id, client_secret):
        refuse(h, 401, "no or wrong HTTP Basic client credentials", "invalid_client")
        return None
    ctype = h.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        refuse(h, 400, f"content type {ctype!r}, not a form", "invalid_request")
        return None
    try:
        return parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError):
        refuse(h, 400, "a body that is no form", "invalid_request")
        return None


# --------------------------------------------------------------------------------------------
# WWW-Authenticate (RFC 9110 section 11.2 and 11.6.1)

_TCHAR = r"[!#$%&'*+.^_`|~0-9A-Za-z-]"
_TOKEN = re.compile(rf"{_TCHAR}+")
_OWS = re.compile(r"[ \t]*")
_QUOTED = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t !-~\x80-\xff])*)"')
_PARAM_START = re.compile(rf"({_TCHAR}+)[ \t]*=")


class ChallengeSyntaxError(ValueError):
    pass


def parse_challenges(value: str) -> list[tuple[str, dict]]:
    """The challenges of one WWW-Authenticate field value as [(scheme, {name: value})]: names
    lower-cased (they are case-insensitive), quoted-strings unquoted. Only the auth-param form
    (RFC 9110: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]); a token68 or anything
    that is not the grammar raises ChallengeSyntaxError, and so does a parameter given twice in
    one challenge (section 11.2: each parameter name MUST only occur once per challenge)."""
    i, n = 0, len(value)
    challenges: list[tuple[str, dict]] = []

    def skip_list_separators(j: int) -> int:
        while j < n and value[j] in " \t,":
            j += 1
        return j

    i = skip_list_separators(i)
    while i < n:
        m = _TOKEN.match(value, i)
        if not m:
            raise ChallengeSyntaxError(f"expected an auth-scheme at {i}: {value!r}")
        scheme = m.group()
        i = m.end()
        params: dict = {}
        if i < n and value[i] not in " ,":
            raise ChallengeSyntaxError(f"unexpected {value[i]!r} after scheme {scheme!r}")
        j = _OWS.match(value, i).end()
        while j < n:
            pm = _PARAM_START.match(value, j)
            if not pm:
                break  # a new challenge (or garbage, caught as a scheme below)
            name = pm.group(1).lower()
            k = _OWS.match(value, pm.end()).end()
            if k < n and value[k] == '"':
                qm = _QUOTED.match(value, k)
                if not qm:
                    raise ChallengeSyntaxError(f"bad quoted-string at {k}: {value!r}")
                param_value = re.sub(r"\\(.)", r"\1", qm.group(1))
                k = qm.end()
            else:
                tm = _TOKEN.match(value, k)
                if not tm:
                    raise ChallengeSyntaxError(f"{name}= without a value at {k}: {value!r}")
                param_value = tm.group()
                k = tm.end()
            if name in params:
                raise ChallengeSyntaxError(f"parameter {name!r} twice: {value!r}")
            params[name] = param_value
            k = _OWS.match(value, k).end()
            if k < n and value[k] != ",":
                raise ChallengeSyntaxError(f"expected ',' at {k}: {value!r}")
            j = skip_list_separators(k)
        i = j
        challenges.append((scheme, params))
    return challenges


def bearer_params(value: Optional[str]) -> dict:
    """The auth-params of the one Bearer challenge of a WWW-Authenticate value (RFC 6750
    section 3); fails unless the value is exactly one well-formed Bearer challenge."""
    assert value is not None, "no WWW-Authenticate header"
    challenges = parse_challenges(value)
    assert len(challenges) == 1, f"expected one challenge: {value!r}"
    scheme, params = challenges[0]
    assert scheme.lower() == "bearer", f"scheme {scheme!r}, not Bearer: {value!r}"
    return params
