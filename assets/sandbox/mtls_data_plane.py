"""The mTLS data plane: a consumer's interface endpoint -> NLB -> ALB (mutual TLS) -> API Gateway.

Pattern 2's consumer calls `https://<subdomain>.<domain>/widgets` from its instance. On AWS the
name resolves, inside the consumer VPC, to the addresses of its interface endpoint (the endpoint
service's verified private DNS name); PrivateLink carries the TCP connection to the producer's
network load balancer, whose TCP listener passes it, TLS untouched, to an `alb` target group:
the internal application load balancer. The ALB ends TLS with the ACM certificate of its HTTPS
listener, verifies the client certificate against its trust store (mutual TLS `verify`), applies
its listener rules and forwards the request, Host header unchanged, to an IP target group whose
targets are the producer's execute-api endpoint addresses; API Gateway maps the Host to a private
custom domain name associated with that endpoint, whose base path mapping names the private API.

What the sandbox plays, reading the emulator's state at every connection (nothing is cached but
TLS contexts, keyed by what they are built from):
  * each consumer interface endpoint to an endpoint service gets a loopback listener
    (127.0.0.1, a port picked on first use and kept while the emulator runs): it stands for the
    endpoint's ENIs on port 443. `routes_for_vpc` tells which private DNS names a VPC resolves
    to which of these ports (what the SSM command runner uses as the instance's DNS);
  * a connection passes only while the endpoint's connection is `available`. Before acceptance
    (`pendingAcceptance`, `pending`), after rejection or deletion, every connection is reset
    (RST): no traffic passes, as on AWS. The name is routed to the port from the moment the
    endpoint exists, so the caller sees a reset rather than a failed name lookup; on AWS a
    caller may instead wait for a timeout. The reset keeps every test bounded;
  * the endpoint service's network load balancer: a TCP listener on 443 forwarding to an `alb`
    target group whose registered target is the application load balancer, on the port of one of
    its HTTPS listeners. Anything else (TLS listeners on the NLB, IP or instance targets) is not
    played, and its connections are reset;
  * the ALB's HTTPS listener: the certificate is chosen by SNI among the listener's ACM
    certificates (the default one when no name matches), served with its private key and its
    chain to the sandbox CA (`sandbox-ca.pem`, named in the ready file), which stands for
    Amazon's public roots: ACM certificates the sandbox issues are signed by it. Minimum TLS 1.2;
  * mutual TLS `verify`: the handshake requires a client certificate that chains to the trust
    store's CA bundle and is within its validity; no certificate, or one from another CA, and
    the handshake fails, as the ALB refuses it. Mode `off` asks for no certificate;
  * listener rules by priority (host-header and path-pattern conditions, with * and ?), then the
    default action: fixed-response, or forward to an IP target group. Only registered targets
    that are addresses of an available execute-api interface endpoint of the group's VPC pass
    (the ALB connects to them); with none, the ALB answers 503 itself, with its own page;
  * the request goes on to API Gateway (data_plane.dispatch) as coming through that endpoint
    (`aws:SourceVpce`), Host unchanged, with the ALB's X-Forwarded-* headers and, in verify mode,
    the X-Amzn-Mtls-Clientcert-* headers; data_plane resolves the private custom domain name.

Not played: mutual TLS `passthrough` and IgnoreClientCertificateExpiry (a client certificate
out of its validity is always refused), certificate revocation lists, trust store CA name
advertising, HTTP listeners behind the NLB, redirect and authenticate actions, stickiness,
security group and network ACL checks along the path, target health (every matching registered
target is used), access and connection logs, HTTP/2.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import socket
import ssl
import struct
import tempfile
import threading
import traceback
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import data_plane

# The port a consumer calls on its endpoint: the one its loopback listener stands for.
SERVICE_PORT = 443
IDLE_TIMEOUT = 60.0  # the ALB's default idle timeout

_data_dir = ""
_lock = threading.Lock()
_listeners: dict[str, "_EndpointListener"] = {}
# (certificate ARN, certificate bytes, trust store ARN, bundle hash, mode) -> SSLContext
_contexts: dict[tuple[Any, ...], ssl.SSLContext] = {}


# ---------------------------------------------------------------- routes


def routes_for_vpc(account_id: str, region: str, vpc_id: str) -> list[tuple[str, int]]:
    """(private DNS host name, loopback port) of every interface endpoint in the VPC with private
    DNS enabled whose service's private DNS name is verified and whose connection is live: the
    names the VPC's resolver answers with the endpoint's addresses.

    An endpoint `available` passes traffic; one `pendingAcceptance` or `pending` is routed too,
    to a port that resets every connection until it is accepted (see the module's docstring).
    Rejected, failed and deleted endpoints have no route."""
    import privatelink
    from moto.ec2.models import ec2_backends

    if account_id not in ec2_backends or region not in ec2_backends[account_id].keys():
        return []
    routes = []
    for endpoint in list(ec2_backends[account_id][region].vpc_end_points.values()):
        if endpoint.vpc_id != vpc_id or (endpoint.vpc_endpoint_type or "").lower() != "interface":
            continue
        if not privatelink._truthy(endpoint.private_dns_enabled):
            continue
        if endpoint.state not in privatelink.LIVE_CONNECTION_STATES:
            continue
        found = privatelink.find_endpoint_service(endpoint.service_name, region)
        if found is None or not found[1].private_dns_name:
            continue
        if privatelink.private_dns_state(found[1]) != "verified":
            continue
        routes.append((found[1].private_dns_name.lower(), port_for_endpoint(endpoint.id)))
    return sorted(routes)


def all_routes() -> list[dict[str, Any]]:
    """Every VPC's routes, for GET /_sandbox/mtls-routes (`xwizard sandbox`, the tests)."""
    from moto.ec2.models import ec2_backends

    rows = []
    for account_id in list(ec2_backends.keys()):
        for region in list(ec2_backends[account_id].keys()):
            vpcs = list(ec2_backends[account_id][region].vpcs)
            for vpc_id in vpcs:
                for host, port in routes_for_vpc(account_id, region, vpc_id):
                    rows.append({"account": account_id, "region": region, "vpc_id": vpc_id,
                                 "host": host, "port": port})
    return rows


def port_for_endpoint(endpoint_id: str) -> int:
    """The loopback port standing for the endpoint's ENIs; made on first use, then kept."""
    with _lock:
        listener = _listeners.get(endpoint_id)
        if listener is None:
            listener = _EndpointListener(endpoint_id)
            _listeners[endpoint_id] = listener
        return listener.port


class _EndpointListener:
    def __init__(self, endpoint_id: str):
        self.endpoint_id = endpoint_id
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()
        threading.Thread(target=self._accept, name=f"endpoint-{endpoint_id}", daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, address = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=_serve_connection, args=(self.endpoint_id, conn, address),
                             daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        try:
            self.sock.close()
        except OSError:
            pass


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST, as a path that passes no traffic does."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def _close_after_alert(conn: socket.socket) -> None:
    """Close gently after a refused handshake. The client may already have sent its request
    (TLS 1.3 lets it); closing with that unread would reset the connection and could discard
    the alert on its way, leaving the client a bare EOF instead of the reason."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(1.0)
        for _ in range(16):  # bounded: at most 16 reads of what the client still sends
            if not conn.recv(4096):
                break
    except OSError:
        pass
    finally:
        conn.close()


# ---------------------------------------------------------------- endpoint -> NLB -> ALB


@dataclass
class _Path:
    """What a connection to a consumer endpoint reaches: the producer's ALB HTTPS listener."""

    endpoint_id: str
    owner: str  # the endpoint service's account
    region: str
    elbv2: Any
    alb: Any
    listener: Any
    nlb_dns_name: str


def _path_of(endpoint_id: str) -> _Path | str:
    """The ALB listener a connection through the endpoint reaches now, or why none is."""
    import privatelink
    from moto.elbv2.models import elbv2_backends

    endpoint = data_plane.find_endpoint(endpoint_id)
    if endpoint is None:
        return "the endpoint does not exist"
    if endpoint.state != "available":
        return f"the endpoint is {endpoint.state}"
    region = endpoint.ec2_backend.region_name
    found = privatelink.find_endpoint_service(endpoint.service_name, region)
    if found is None:
        return "the endpoint service does not exist"
    owner, config = found
    elbv2 = elbv2_backends[owner][region]
    for nlb_arn in config.network_load_balancer_arns:
        nlb = elbv2.load_balancers.get(nlb_arn)
        if nlb is None or nlb.type != "network":
            continue
        for nlb_listener in list(nlb.listeners.values()):
            if int(nlb_listener.port) != SERVICE_PORT or nlb_listener.protocol != "TCP":
                continue
            for group in _forwarded_groups(elbv2, nlb_listener.default_actions):
                if group.target_type != "alb":
                    continue
                for target in list(group.targets.values()):
                    alb = elbv2.load_balancers.get(target["Id"])
                    if alb is None or alb.type != "application":
                        continue
                    for listener in list(alb.listeners.values()):
                        if int(listener.port) == int(target["Port"]) \
                                and listener.protocol == "HTTPS":
                            return _Path(endpoint_id, owner, region, elbv2, alb, listener,
                                         nlb.dns_name)
    return "the service's NLB forwards no TCP 443 to an ALB HTTPS listener"


def _forwarded_groups(elbv2: Any, actions: list[Any]) -> list[Any]:
    arns: list[str] = []
    for action in actions or []:
        data = getattr(action, "data", action)
        if (data.get("Type") or "").lower() != "forward":
            continue
        if data.get("TargetGroupArn"):
            arns.append(data["TargetGroupArn"])
        for group in (data.get("ForwardConfig") or {}).get("TargetGroups") or []:
            if int(group.get("Weight", 1) or 0) > 0:
                arns.append(group["TargetGroupArn"])
    return [elbv2.target_groups[a] for a in arns if a in elbv2.target_groups]


# ---------------------------------------------------------------- TLS at the ALB


def _certificate(path: _Path, arn: str) -> Any:
    from moto.acm.models import acm_backends

    parts = arn.split(":")
    if len(parts) < 6 or parts[3] != path.region or parts[4] != path.owner:
        return None
    bundle = acm_backends[path.owner][path.region]._certificates.get(arn)
    if bundle is None or bundle.status != "ISSUED":
        return None
    return bundle


def _names(bundle: Any) -> list[str]:
    names = set(bundle.sans) | ({bundle.common_name} if bundle.common_name else set())
    return sorted(n.lower() for n in names)


def _covers(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def _context_for(path: _Path, bundle: Any) -> ssl.SSLContext:
    """A server context for one certificate, with the listener's client-certificate checks."""
    import cfn_resource_types

    mutual = getattr(path.listener, "mutual_authentication", None) or {}
    mode = (mutual.get("Mode") or "off").lower()
    store = (cfn_resource_types.trust_store(mutual.get("TrustStoreArn") or "")
             if mode == "verify" else None)
    bundle_pem = store.ca_bundle_pem if store is not None else ""
    key = (bundle.arn, hashlib.sha256(bundle.cert).hexdigest(), mode,
           hashlib.sha256(bundle_pem.encode()).hexdigest())
    with _lock:
        cached = _contexts.get(key)
    if cached is not None:
        return cached
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    chain = bundle.cert + b"\n" + _sandbox_ca_pem()
    # load_cert_chain reads files only: a private temporary file, removed at once.
    fd, name = tempfile.mkstemp(prefix="alb-", suffix=".pem", dir=_key_dir())
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(chain + b"\n" + bundle.key)
        context.load_cert_chain(name)
    finally:
        os.unlink(name)
    if mode == "verify":
        # A trust store that vanished leaves nothing to trust: every handshake fails.
        context.verify_mode = ssl.CERT_REQUIRED
        if bundle_pem:
            context.load_verify_locations(cadata=bundle_pem)
    with _lock:
        _contexts[key] = context
    return context


def _server_context(path: _Path) -> ssl.SSLContext | None:
    """The listener's default certificate's context, switching to another by SNI."""
    arns = [path.listener.certificate] if getattr(path.listener, "certificate", None) else []
    arns += [c for c in getattr(path.listener, "certificates", []) or [] if c not in arns]
    bundles = [b for b in (_certificate(path, a) for a in arns) if b is not None]
    if not bundles:
        return None
    contexts = [(_names(b), _context_for(path, b)) for b in bundles]
    default = contexts[0][1]

    def choose(sslobj: Any, server_name: str | None, _context: Any) -> None:
        host = (server_name or "").lower()
        for names, context in contexts:
            if any(_covers(n, host) for n in names):
                sslobj.context = context
                return

    default.sni_callback = choose if len(contexts) > 1 else None
    return default


# ---------------------------------------------------------------- one connection


def _serve_connection(endpoint_id: str, conn: socket.socket, address: Any) -> None:
    try:
        conn.settimeout(IDLE_TIMEOUT)
        path = _path_of(endpoint_id)
        if isinstance(path, str):
            _reset(conn)
            return
        context = _server_context(path)
        if context is None:
            _reset(conn)
            return
        # Headers and body are written apart: unbatched, a reply is not held for an ACK.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            _close_after_alert(conn)  # the handshake failed: the client gets the alert
            return
        try:
            _AlbHandler(tls, address, path)
        finally:
            try:
                tls.close()
            except OSError:
                pass
    except Exception:  # noqa: BLE001 - one bad connection must not stop the listener
        # The traceback names code, never values: no header or key reaches the log.
        traceback.print_exc(limit=8)
        try:
            conn.close()
        except OSError:
            pass


class _AlbHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 on the ALB's side of the TLS connection."""

    protocol_version = "HTTP/1.1"
    server_version = "awselb/2.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def __init__(self, request: Any, client_address: Any, path: _Path):
        self.alb_path = path
        super().__init__(request, client_address, None)

    def _serve(self) -> None:
        body = data_plane._Handler._read_body(self)  # type: ignore[arg-type]
        response = _alb_answer(self.alb_path, self, body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def send_response(self, code: int, message: str | None = None) -> None:
        # Only the ALB's own answers say "Server: awselb/2.0"; forwarded ones keep the target's.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests carry API keys in headers; keep them out of the emulator's log


# ---------------------------------------------------------------- the ALB's routing


def _alb_page(status: int, reason: str) -> data_plane.Response:
    """The page an ALB sends when it answers itself (no target, bad gateway...)."""
    text = f"{status} {reason}"
    body = (f"<html>\r\n<head><title>{text}</title></head>\r\n<body>\r\n<center><h1>{text}"
            f"</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    return data_plane.Response(status, body, {"content-type": "text/html", "server": "awselb/2.0"})


def _like(pattern: str, value: str, ignore_case: bool) -> bool:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(body, value, flags) is not None


def _rule_matches(conditions: list[dict[str, Any]], host: str, path: str, method: str) -> bool:
    for condition in conditions or []:
        field = condition.get("Field")
        if field == "host-header":
            values = ((condition.get("HostHeaderConfig") or {}).get("Values")
                      or condition.get("Values") or [])
            if not any(_like(v, host, ignore_case=True) for v in values):
                return False
        elif field == "path-pattern":
            values = ((condition.get("PathPatternConfig") or {}).get("Values")
                      or condition.get("Values") or [])
            # Path patterns are case sensitive; host names are not.
            if not any(_like(v, path, ignore_case=False) for v in values):
                return False
        elif field == "http-request-method":
            values = (condition.get("HttpRequestMethodConfig") or {}).get("Values") or []
            if method.upper() not in [v.upper() for v in values]:
                return False
        else:
            return False  # a condition the sandbox does not play never matches
    return True


def _rules_in_order(listener: Any) -> list[Any]:
    rules = [r for r in listener.rules.values() if not r.is_default]
    rules.sort(key=lambda r: int(r.priority))
    return rules + [r for r in listener.rules.values() if r.is_default]


def _alb_answer(path: _Path, handler: _AlbHandler, body: bytes) -> data_plane.Response:
    split = urlsplit(handler.path)
    headers = {k.lower(): v for k, v in handler.headers.items()}
    host = headers.get("host", "").split(":")[0].lower()
    for rule in _rules_in_order(path.listener):
        if not _rule_matches(rule.conditions, host, split.path, handler.command):
            continue
        for action in rule.actions:
            data = getattr(action, "data", action)
            kind = (data.get("Type") or "").lower()
            if kind == "fixed-response":
                config = data.get("FixedResponseConfig") or {}
                return data_plane.Response(
                    int(config.get("StatusCode", 200)), (config.get("MessageBody") or "").encode(),
                    {"content-type": config.get("ContentType", "text/plain"),
                     "server": "awselb/2.0"})
            if kind == "forward":
                return _forward(path, handler, body, data, headers, split)
        return _alb_page(500, "Internal Server Error")  # an action the sandbox does not play
    return _alb_page(404, "Not Found")


def _forward(path: _Path, handler: _AlbHandler, body: bytes, action: dict[str, Any],
             headers: dict[str, str], split: Any) -> data_plane.Response:
    groups = _forwarded_groups(path.elbv2, [action])
    group = groups[0] if groups else None
    if group is None or group.target_type != "ip":
        return _alb_page(503, "Service Temporarily Unavailable")
    ips = [t["Id"] for t in list(group.targets.values())]
    endpoint_id = _execute_api_endpoint(path, group, ips)
    if endpoint_id is None:
        # No registered target the ALB can reach: it answers itself.
        return _alb_page(503, "Service Temporarily Unavailable")
    forwarded = {k: v for k, v in headers.items() if k not in data_plane.HOP_BY_HOP or k == "host"}
    forwarded.pop(data_plane.lambda_runtime.SOURCE_VPCE_HEADER, None)
    forwarded.pop(data_plane.lambda_runtime.SOURCE_SIGNATURE_HEADER, None)
    previous = forwarded.get("x-forwarded-for")
    peer = "127.0.0.1"  # PrivateLink shows the NLB's address, not the consumer's
    forwarded["x-forwarded-for"] = f"{previous}, {peer}" if previous else peer
    forwarded["x-forwarded-proto"] = "https"
    forwarded["x-forwarded-port"] = str(path.listener.port)
    now = int(datetime.datetime.now().timestamp())
    forwarded["x-amzn-trace-id"] = f"Root=1-{now:08x}-{uuid.uuid4().hex[:24]}"
    forwarded.update(_client_certificate_headers(handler))
    inner = data_plane.Request(
        method=handler.command, host=headers.get("host", ""), path=split.path or "/",
        query=parse_qsl(split.query, keep_blank_values=True), headers=forwarded, body=body,
        source_vpce=endpoint_id, source_ip=peer,
    )
    return data_plane.dispatch(inner)


def _execute_api_endpoint(path: _Path, group: Any, ips: list[str]) -> str | None:
    """The available execute-api endpoint of the group's VPC owning one of the target IPs."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[path.owner][path.region]
    service = f"com.amazonaws.{path.region}.execute-api"
    for endpoint in list(ec2.vpc_end_points.values()):
        if endpoint.service_name != service or endpoint.state != "available" \
                or endpoint.vpc_id != group.vpc_id:
            continue
        for eni_id in endpoint.network_interface_ids or []:
            eni = ec2.enis.get(eni_id)
            if eni is not None and data_plane._eni_ips(eni) & set(ips):
                return endpoint.id
    return None


def _client_certificate_headers(handler: _AlbHandler) -> dict[str, str]:
    """The X-Amzn-Mtls-Clientcert-* headers an ALB in verify mode sends to its targets."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        der = handler.connection.getpeercert(binary_form=True)
    except (AttributeError, ValueError):
        der = None
    if not der:
        return {}
    cert = x509.load_der_x509_certificate(der)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return {
        "x-amzn-mtls-clientcert-serial-number": format(cert.serial_number, "X"),
        "x-amzn-mtls-clientcert-issuer": cert.issuer.rfc4514_string(),
        "x-amzn-mtls-clientcert-subject": cert.subject.rfc4514_string(),
        "x-amzn-mtls-clientcert-validity":
            f"NotBefore={cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ};"
            f"NotAfter={cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
        "x-amzn-mtls-clientcert-leaf": quote(pem, safe=""),
    }


# ---------------------------------------------------------------- ACM certificates and the CA


def _key_dir() -> str:
    path = os.path.join(_data_dir, "alb-keys")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _sandbox_ca_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization

    cert, _key = data_plane.ensure_ca(_data_dir)
    return cert.public_bytes(serialization.Encoding.PEM)


def _acm_certificates_chain_to_the_sandbox_ca() -> None:
    """ACM's public certificates chain to Amazon's roots; the sandbox's chain to the sandbox CA,
    which stands for them (clients of the sandbox trust it), so a client that verifies the
    ALB's certificate succeeds as it would on AWS. moto signed each with its own key."""
    from moto.acm.models import CertBundle

    original = CertBundle.generate_cert.__func__
    if getattr(original, "_sandbox_patched", False):
        return

    def generate_cert(cls: Any, domain_name: str, account_id: str, region: str,
                      sans: list[str] | None = None, cert_authority_arn: str | None = None) -> Any:
        if cert_authority_arn is not None:
            return original(cls, domain_name, account_id, region, sans, cert_authority_arn)
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_cert, ca_key = data_plane.ensure_ca(_data_dir)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        names = [domain_name] + [n for n in sans or [] if n != domain_name]
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain_name)]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=395))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        return cls(
            certificate=cert.public_bytes(serialization.Encoding.PEM),
            private_key=key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()),
            chain=ca_cert.public_bytes(serialization.Encoding.PEM),
            cert_type="AMAZON_ISSUED", cert_status="PENDING_VALIDATION",
            account_id=account_id, region=region,
        )

    generate_cert._sandbox_patched = True  # type: ignore[attr-defined]
    CertBundle.generate_cert = classmethod(generate_cert)


def _close_all() -> None:
    with _lock:
        listeners = list(_listeners.values())
        _listeners.clear()
        _contexts.clear()
    for listener in listeners:
        listener.close()


def install(ctx: Any) -> None:
    import control_api

    global _data_dir
    _data_dir = ctx.data_dir
    _acm_certificates_chain_to_the_sandbox_ca()
    control_api.on_reset(_close_all)
    control_api.on_get("mtls-routes", lambda: {"routes": all_routes()})
