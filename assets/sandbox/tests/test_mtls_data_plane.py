"""The mTLS data plane (mtls_data_plane.py) end to end, as the consumer's instance calls the API:
TLS to its interface endpoint's private DNS name, a client certificate the ALB verifies, the API
key in Authorization, and the widget back from the producer's private API."""

from __future__ import annotations

import datetime
import http.client
import json
import os
import socket
import ssl
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import CONSUMER, wait_until
from test_pattern2_stacks import deploy, make_ca

WIDGET = {"id": "1", "value": "4.99"}


@pytest.fixture(scope="module")
def p2(sandbox):
    sandbox.control("reset", {})
    yield deploy(sandbox)
    sandbox.control("reset", {})


@pytest.fixture(scope="module")
def certificates(p2, tmp_path_factory) -> dict[str, tuple[str, str]]:
    """Client certificate and key files: one from the trust store's CA, one from another."""
    folder = tmp_path_factory.mktemp("client")
    _, other_cert, other_key = make_ca("some other CA")
    return {
        "trusted": write_client(folder, "trusted", *p2.ca),
        "other": write_client(folder, "other", other_cert, other_key),
    }


def write_client(folder: Any, name: str, ca_cert: Any, ca_key: Any) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} client")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}.key")
    with open(cert_file, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return cert_file, key_file


def route(p2: Any) -> int:
    """The loopback port the consumer VPC's resolver gives the service's name."""
    routes = p2.sb.control("mtls-routes")["routes"]
    mine = [(r["host"], r["port"]) for r in routes
            if r["account"] == CONSUMER and r["vpc_id"] == p2.consumer["VpcId"]]
    assert [host for host, _ in mine] == [p2.host]
    return mine[0][1]


def get(p2: Any, port: int, client: tuple[str, str] | None, headers: dict[str, str],
        host: str | None = None) -> tuple[int, bytes]:
    """GET /widgets through the endpoint as curl --connect-to would: TLS to the service name
    (SNI, certificate checked against the sandbox CA), Host header `host` (default the name)."""
    context = ssl.create_default_context(cafile=p2.sb.info["data_plane"]["ca_file"])
    if client:
        context.load_cert_chain(*client)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        tls = context.wrap_socket(sock, server_hostname=p2.host)
        connection = http.client.HTTPConnection(host or p2.host)
        connection.sock = tls
        connection.request("GET", "/widgets", headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        sock.close()


def refused(p2: Any, port: int, client: tuple[str, str] | None, key: str) -> Exception:
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.RemoteDisconnected)) as error:
        get(p2, port, client, {"Authorization": key})
    return error.value


def api_key(p2: Any) -> str:
    return p2.sb.client("secretsmanager", "producer").get_secret_value(
        SecretId=p2.network["ApiKeySecretArn"])["SecretString"]


def endpoint_state(p2: Any) -> str:
    return p2.sb.client("ec2", "consumer").describe_vpc_endpoints(
        VpcEndpointIds=[p2.consumer["ServiceEndpointId"]])["VpcEndpoints"][0]["State"]


def test_before_acceptance_no_connection_passes(p2, certificates):
    assert endpoint_state(p2) == "pendingAcceptance"
    error = refused(p2, route(p2), certificates["trusted"], api_key(p2))
    assert isinstance(error, (ConnectionResetError, ssl.SSLError, ConnectionError))


def test_the_right_certificate_and_key_get_the_widget(p2, certificates):
    p2.sb.client("ec2", "producer").accept_vpc_endpoint_connections(
        ServiceId=p2.api["EndpointServiceId"], VpcEndpointIds=[p2.consumer["ServiceEndpointId"]])
    wait_until(lambda: endpoint_state(p2) == "available", what="the endpoint to be available")
    status, body = get(p2, route(p2), certificates["trusted"], {"Authorization": api_key(p2)})
    assert (status, body) == (200, json.dumps(WIDGET, separators=(",", ":")).encode())


def test_no_client_certificate_is_refused_at_the_handshake(p2, certificates):
    refused(p2, route(p2), None, api_key(p2))


def test_a_certificate_from_another_ca_is_refused(p2, certificates):
    refused(p2, route(p2), certificates["other"], api_key(p2))


def test_without_the_api_key_the_authorizer_answers(p2, certificates):
    port = route(p2)
    status, body = get(p2, port, certificates["trusted"], {})
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    status, body = get(p2, port, certificates["trusted"], {"Authorization": "not-the-key"})
    assert status == 403
    assert json.loads(body)["Message"] == \
        "User is not authorized to access this resource with an explicit deny"


def test_another_host_ends_at_the_albs_default_action(p2, certificates):
    status, body = get(p2, route(p2), certificates["trusted"], {"Authorization": api_key(p2)},
                       host="other.xwizard.test")
    assert (status, body) == (404, b"not found")


def test_without_registered_targets_the_alb_answers_503(p2, certificates):
    elb = p2.sb.client("elbv2", "producer")
    group = p2.api["ApiTargetGroupArn"]
    elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": ip, "Port": 443} for ip in p2.targets])
    try:
        status, body = get(p2, route(p2), certificates["trusted"], {"Authorization": api_key(p2)})
        assert status == 503 and b"503 Service Temporarily Unavailable" in body
    finally:
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": ip, "Port": 443} for ip in p2.targets])
    status, _ = get(p2, route(p2), certificates["trusted"], {"Authorization": api_key(p2)})
    assert status == 200


def test_a_rejected_connection_passes_nothing_and_loses_its_name(p2, certificates):
    port = route(p2)
    p2.sb.client("ec2", "producer").reject_vpc_endpoint_connections(
        ServiceId=p2.api["EndpointServiceId"], VpcEndpointIds=[p2.consumer["ServiceEndpointId"]])
    assert endpoint_state(p2) == "rejected"
    refused(p2, port, certificates["trusted"], api_key(p2))
    assert [r for r in p2.sb.control("mtls-routes")["routes"] if r["account"] == CONSUMER] == []
