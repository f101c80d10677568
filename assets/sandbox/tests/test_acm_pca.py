"""AWS Private CA as AWS documents it: states, validity, template extensions, deletion."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import wait_until

TEMPLATE = "arn:aws:acm-pca:::template/"
ROOT = TEMPLATE + "RootCACertificate/V1"
CLIENT = TEMPLATE + "EndEntityClientAuthCertificate/V1"
ISSUING_REFUSED = "The certificate authority is not in a valid state for issuing certificates."


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def create_ca(pca, usage_mode: str | None = None, key: str = "EC_prime256v1") -> str:
    extra = {"UsageMode": usage_mode} if usage_mode else {}
    return pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": key,
            "SigningAlgorithm": "SHA256WITHECDSA" if key.startswith("EC") else "SHA256WITHRSA",
            "Subject": {"CommonName": "xwizard test CA", "Organization": "xwizard"},
        },
        CertificateAuthorityType="ROOT", **extra,
    )["CertificateAuthorityArn"]


def status(pca, arn: str) -> str:
    return pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]["Status"]


def wait_status(pca, arn: str, wanted: str) -> None:
    wait_until(lambda: status(pca, arn) == wanted, what=f"the CA {wanted}")


def fetch(pca, ca_arn: str, cert_arn: str) -> dict:
    """GetCertificate once the certificate is issued (the CertificateIssued waiter's loop)."""
    def issued():
        try:
            return pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
        except ClientError as err:
            if err.response["Error"]["Code"] == "RequestInProgressException":
                return None
            raise
    return wait_until(issued, what="the certificate issued")


def active_ca(pca, usage_mode: str | None = None, years: int = 30) -> tuple[str, x509.Certificate]:
    """A root CA made as the guide does it: CSR, self-signed with RootCACertificate/V1, imported."""
    arn = create_ca(pca, usage_mode)
    wait_status(pca, arn, "PENDING_CERTIFICATE")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn, Csr=csr.encode(), SigningAlgorithm="SHA256WITHECDSA",
        TemplateArn=ROOT, Validity={"Type": "YEARS", "Value": years})["CertificateArn"]
    pem = fetch(pca, arn, cert_arn)["Certificate"]
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=pem.encode())
    assert status(pca, arn) == "ACTIVE"
    return arn, x509.load_pem_x509_certificate(pem.encode())


def client_csr(cn: str = "client.example.com") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def issue(pca, ca_arn: str, validity: dict, template: str = CLIENT, **extra) -> str:
    return pca.issue_certificate(CertificateAuthorityArn=ca_arn, Csr=client_csr(),
                                 SigningAlgorithm="SHA256WITHECDSA", TemplateArn=template,
                                 Validity=validity, **extra)["CertificateArn"]


def error_of(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def close(a: datetime.datetime, b: datetime.datetime, seconds: float = 120) -> bool:
    return abs((a - b).total_seconds()) <= seconds


def test_a_new_ca_is_creating_then_pending_its_csr_made_with_its_key_algorithm(fresh):
    pca = fresh.client("acm-pca", "producer")
    fresh.control("faults/hold", {"what": "acm-pca"})
    arn = create_ca(pca)
    described = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    assert described["Status"] == "CREATING"
    assert described["UsageMode"] == "GENERAL_PURPOSE"
    code, _ = error_of(pca.get_certificate_authority_csr, CertificateAuthorityArn=arn)
    assert code == "RequestInProgressException"

    fresh.control("faults/release", {"what": "acm-pca"})
    wait_status(pca, arn, "PENDING_CERTIFICATE")
    csr = x509.load_pem_x509_csr(pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"].encode())
    assert isinstance(csr.public_key(), ec.EllipticCurvePublicKey)
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "xwizard test CA"


def test_root_ca_certificate_has_the_root_template_extensions_and_asked_validity(fresh):
    pca = fresh.client("acm-pca", "producer")
    arn, cert = active_ca(pca, years=10)
    issued = now()
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).critical
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert usage.value.digital_signature and not usage.value.key_encipherment
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == ski
    assert close(cert.not_valid_after_utc, issued.replace(year=issued.year + 10), 300)
    # "AWS Private CA sets the Not Before date to the issuance time minus 60 minutes."
    assert close(cert.not_valid_before_utc, issued - datetime.timedelta(minutes=60), 300)
    described = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    assert described["Serial"] == format(cert.serial_number, "x")


def test_client_auth_certificate_has_client_auth_and_the_validity_asked(fresh):
    pca = fresh.client("acm-pca", "producer")
    ca_arn, ca_cert = active_ca(pca)
    cert_arn = issue(pca, ca_arn, {"Type": "DAYS", "Value": 30})
    got = fetch(pca, ca_arn, cert_arn)
    cert = x509.load_pem_x509_certificate(got["Certificate"].encode())
    issued = now()

    assert cert.issuer == ca_cert.subject
    ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                ec.ECDSA(cert.signature_hash_algorithm))
    assert got["CertificateChain"].strip() == ca_cert.public_bytes(serialization.Encoding.PEM).decode().strip()
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CLIENT_AUTH] and not eku.critical
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is False and not basic.critical
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == ca_ski
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["client.example.com"]
    assert close(cert.not_valid_after_utc, issued + datetime.timedelta(days=30))


def test_every_validity_type_sets_not_after_and_not_before(fresh):
    pca = fresh.client("acm-pca", "producer")
    ca_arn, _ = active_ca(pca, years=30)

    def not_after(validity, **extra):
        cert_arn = issue(pca, ca_arn, validity, **extra)
        return x509.load_pem_x509_certificate(fetch(pca, ca_arn, cert_arn)["Certificate"].encode())

    utc = datetime.timezone.utc
    # The API reference's own samples.
    assert not_after({"Type": "END_DATE", "Value": 491231235959}).not_valid_after_utc == \
        datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=utc)
    assert not_after({"Type": "END_DATE", "Value": 20401231235959}).not_valid_after_utc == \
        datetime.datetime(2040, 12, 31, 23, 59, 59, tzinfo=utc)
    assert not_after({"Type": "ABSOLUTE", "Value": 2524608000}).not_valid_after_utc == \
        datetime.datetime(2050, 1, 1, tzinfo=utc)
    start = int(now().timestamp()) + 86400
    cert = not_after({"Type": "MONTHS", "Value": 6}, ValidityNotBefore={"Type": "ABSOLUTE", "Value": start})
    assert cert.not_valid_before_utc == datetime.datetime.fromtimestamp(start, utc)
    assert 180 <= (cert.not_valid_after_utc - now()).days <= 185

    code, message = error_of(issue, pca, ca_arn, {"Type": "YEARS", "Value": 40})
    assert code == "ValidationException" and "exceeds the certificate authority validity" in message


def test_issue_is_refused_unless_the_ca_is_active(fresh):
    pca = fresh.client("acm-pca", "producer")
    pending = create_ca(pca)
    wait_status(pca, pending, "PENDING_CERTIFICATE")
    assert error_of(issue, pca, pending, {"Type": "DAYS", "Value": 1}) == \
        ("InvalidStateException", ISSUING_REFUSED)

    ca_arn, _ = active_ca(pca)
    pca.update_certificate_authority(CertificateAuthorityArn=ca_arn, Status="DISABLED")
    assert status(pca, ca_arn) == "DISABLED"
    assert error_of(issue, pca, ca_arn, {"Type": "DAYS", "Value": 1}) == \
        ("InvalidStateException", ISSUING_REFUSED)
    pca.update_certificate_authority(CertificateAuthorityArn=ca_arn, Status="ACTIVE")
    assert issue(pca, ca_arn, {"Type": "DAYS", "Value": 1})


def test_short_lived_ca_issues_at_most_seven_days(fresh):
    pca = fresh.client("acm-pca", "producer")
    ca_arn, _ = active_ca(pca, usage_mode="SHORT_LIVED_CERTIFICATE")
    described = pca.describe_certificate_authority(CertificateAuthorityArn=ca_arn)["CertificateAuthority"]
    assert described["UsageMode"] == "SHORT_LIVED_CERTIFICATE"
    cert_arn = issue(pca, ca_arn, {"Type": "DAYS", "Value": 7})
    cert = x509.load_pem_x509_certificate(fetch(pca, ca_arn, cert_arn)["Certificate"].encode())
    assert close(cert.not_valid_after_utc, now() + datetime.timedelta(days=7))
    code, message = error_of(issue, pca, ca_arn, {"Type": "DAYS", "Value": 8})
    assert code == "ValidationException" and "7 days" in message


def test_get_certificate_is_in_progress_until_issued(fresh):
    pca = fresh.client("acm-pca", "producer")
    ca_arn, _ = active_ca(pca)
    fresh.control("faults/hold", {"what": "acm-pca"})
    cert_arn = issue(pca, ca_arn, {"Type": "DAYS", "Value": 1})
    code, _ = error_of(pca.get_certificate, CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    assert code == "RequestInProgressException"
    fresh.control("faults/release", {"what": "acm-pca"})
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn,
        WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    code, _ = error_of(pca.get_certificate, CertificateAuthorityArn=ca_arn,
                       CertificateArn=cert_arn.rsplit("/", 1)[0] + "/" + "0" * 32)
    assert code == "ResourceNotFoundException"


def test_delete_needs_a_disabled_ca_and_keeps_it_restorable(fresh):
    pca = fresh.client("acm-pca", "producer")
    ca_arn, _ = active_ca(pca)
    assert error_of(pca.delete_certificate_authority, CertificateAuthorityArn=ca_arn) == \
        ("InvalidStateException", "The certificate authority is not in a valid state for deletion.")

    pca.update_certificate_authority(CertificateAuthorityArn=ca_arn, Status="DISABLED")
    pca.delete_certificate_authority(CertificateAuthorityArn=ca_arn, PermanentDeletionTimeInDays=7)
    described = pca.describe_certificate_authority(CertificateAuthorityArn=ca_arn)["CertificateAuthority"]
    assert described["Status"] == "DELETED"
    assert close(described["RestorableUntil"], now() + datetime.timedelta(days=7))
    assert error_of(issue, pca, ca_arn, {"Type": "DAYS", "Value": 1})[0] == "InvalidStateException"

    pca.restore_certificate_authority(CertificateAuthorityArn=ca_arn)
    assert status(pca, ca_arn) == "DISABLED"

    pending = create_ca(pca)
    wait_status(pca, pending, "PENDING_CERTIFICATE")
    pca.delete_certificate_authority(CertificateAuthorityArn=pending)
    described = pca.describe_certificate_authority(CertificateAuthorityArn=pending)["CertificateAuthority"]
    assert close(described["RestorableUntil"], now() + datetime.timedelta(days=30))


def test_a_ca_deleted_while_creating_is_gone_at_once(fresh):
    pca = fresh.client("acm-pca", "producer")
    fresh.control("faults/hold", {"what": "acm-pca"})
    arn = create_ca(pca)
    assert status(pca, arn) == "CREATING"
    pca.delete_certificate_authority(CertificateAuthorityArn=arn)
    fresh.control("faults/release", {"what": "acm-pca"})
    code, _ = error_of(pca.describe_certificate_authority, CertificateAuthorityArn=arn)
    assert code == "ResourceNotFoundException"


def test_signing_algorithm_must_match_the_ca_key_and_imports_must_hold_the_ca_key(fresh):
    pca = fresh.client("acm-pca", "producer")
    ca_arn, _ = active_ca(pca)
    code, _ = error_of(pca.issue_certificate, CertificateAuthorityArn=ca_arn, Csr=client_csr(),
                       SigningAlgorithm="SHA256WITHRSA", TemplateArn=CLIENT,
                       Validity={"Type": "DAYS", "Value": 1})
    assert code == "InvalidArgsException"

    other, other_cert = active_ca(pca)
    code, _ = error_of(pca.import_certificate_authority_certificate, CertificateAuthorityArn=ca_arn,
                       Certificate=other_cert.public_bytes(serialization.Encoding.PEM))
    assert code == "CertificateMismatchException"
