"""AWS Private CA as AWS documents it, where moto 5.2.5 is not.

What AWS does (API reference, "Understand AWS Private CA CA status", "template definitions") and
moto did not:
- CreateCertificateAuthority: the CA is CREATING for a moment, then PENDING_CERTIFICATE;
  meanwhile GetCertificateAuthorityCsr answers RequestInProgressException (what the SDK's
  CertificateAuthorityCSRCreated waiter retries on). The CA's key is made with its KeyAlgorithm
  (RSA_2048/3072/4096, EC_prime256v1/secp384r1/secp521r1) and its CSR signed with its
  SigningAlgorithm; moto made RSA 2048 and SHA-256 for every CA. UsageMode defaults to
  GENERAL_PURPOSE; moto reported SHORT_LIVED_CERTIFICATE for every CA and ignored the parameter.
- IssueCertificate:
  * only an ACTIVE CA issues; a root CA still PENDING_CERTIFICATE may issue only its own CA
    certificate (a RootCACertificate template), the documented way to self-sign it. Anything
    else is InvalidStateException "The certificate authority is not in a valid state for
    issuing certificates." moto issued in every state, DELETED included;
  * Validity is honoured (END_DATE as UTCTime or GeneralizedTime, ABSOLUTE epoch seconds, DAYS,
    MONTHS, YEARS from issuance), and ValidityNotBefore (ABSOLUTE), else Not Before is the
    issuance time minus 60 minutes; moto made every certificate valid for 365 days from now;
  * a CA in SHORT_LIVED_CERTIFICATE mode issues end-entity certificates valid for at most seven
    days (its own CA certificate is not limited), and
    no certificate outlives the issuing CA's own certificate;
  * the SigningAlgorithm's family must be the CA key's (RSA or ECDSA); the certificate is signed
    with it (PSS where named); moto signed everything with SHA-512;
  * the template's extensions, as the template definitions list them: EndEntityCertificate/V1
    and its ClientAuth/ServerAuth variants have Basic constraints CA:FALSE, Key usage (critical)
    digital signature and key encipherment, and Extended key usage serverAuth+clientAuth,
    clientAuth only, or serverAuth only; RootCACertificate/V1 and SubordinateCACertificate_
    PathLenN/V1 have critical CA:TRUE (pathlen N for subordinates) and Key usage (critical)
    digital signature, keyCertSign, cRLSign; CodeSigning and OCSPSigning have their critical
    EKU. Every one has the Subject key identifier derived from the CSR and the Authority key
    identifier of the issuing CA's certificate, and passes the CSR's subject and subject
    alternative names through; *_CSRPassthrough variants also pass the CSR's other extensions.
    moto put no Extended key usage on EndEntityClientAuthCertificate/V1 (nor any extension on
    templates it did not know);
  * the certificate is issued a moment after the call: GetCertificate answers
    RequestInProgressException until then (what the CertificateIssued waiter retries on).
- GetCertificate: an unknown certificate ARN is ResourceNotFoundException (moto: HTTP 500); a
  DELETED CA's certificates are refused with InvalidStateException "The certificate authority
  <arn> is not in the correct state to have issued certificates."; a revoked certificate can
  still be retrieved (moto refused it).
- DeleteCertificateAuthority: refused unless the CA is PENDING_CERTIFICATE, CREATING, EXPIRED,
  DISABLED or FAILED (InvalidStateException "The certificate authority is not in a valid state
  for deletion."); the CA is then DELETED with RestorableUntil = now +
  PermanentDeletionTimeInDays (7-30, default 30); a CA deleted while CREATING or FAILED is gone
  at once. Past RestorableUntil the CA is permanently deleted (ResourceNotFoundException).
  moto deleted an ACTIVE CA and never showed RestorableUntil.
- RestoreCertificateAuthority (missing in moto): a DELETED CA within its restoration period
  returns to the status it had before deletion (EXPIRED if its certificate has expired since).
- UpdateCertificateAuthority: only a CA that is ACTIVE or DISABLED can be updated, and Status can
  only be ACTIVE or DISABLED.
- ImportCertificateAuthorityCertificate: the certificate must hold the CA's own public key
  (CertificateMismatchException), and the CA must be PENDING_CERTIFICATE, ACTIVE or EXPIRED
  (a DISABLED CA's certificate cannot be updated).
- A CA whose certificate's Not After has passed is EXPIRED.

Messages AWS is known to send are AWS's own; where AWS's wording is not published, the message
says plainly what is wrong. Timing comes from the pace (`ca_creating`, `certificate_issuing`);
the fault API's hold on "acm-pca" keeps new CAs CREATING and new certificates in progress until
released.

Not played: CRL distribution points and OCSP, ApiPassthrough extensions, audit reports,
permissions and resource policies for other accounts, idempotency tokens, ML-DSA and SM2 keys
(refused with InvalidArgsException, as a region without them would).
"""

from __future__ import annotations

import base64
import calendar
import datetime
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
from moto.core.exceptions import JsonRESTError

# Seconds a CA stays CREATING and a certificate in progress; replaced from the pace at install.
_PACE = {"ca_creating": 0.05, "certificate_issuing": 0.05}
HOLD = "acm-pca"

ISSUING_STATE_MESSAGE = "The certificate authority is not in a valid state for issuing certificates."
DELETION_STATE_MESSAGE = "The certificate authority is not in a valid state for deletion."
SHORT_LIVED_DAYS = 7
DEFAULT_RESTORATION_DAYS = 30
# "AWS Private CA sets the Not Before date to the issuance time minus 60 minutes."
NOT_BEFORE_MARGIN = datetime.timedelta(minutes=60)
TEMPLATE_PREFIX = "arn:aws:acm-pca:::template/"
DEFAULT_TEMPLATE = TEMPLATE_PREFIX + "EndEntityCertificate/V1"


# --- errors -------------------------------------------------------------------------------------


class _Error(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__(type(self).__name__, message)


class InvalidStateException(_Error):
    pass


class InvalidArgsException(_Error):
    pass


class ValidationException(_Error):
    pass


class MalformedCSRException(_Error):
    pass


class CertificateMismatchException(_Error):
    pass


class RequestInProgressException(_Error):
    pass


class ResourceNotFoundException(_Error):
    pass


# --- keys and algorithms ------------------------------------------------------------------------

_CURVES = {"EC_prime256v1": ec.SECP256R1, "EC_secp384r1": ec.SECP384R1, "EC_secp521r1": ec.SECP521R1}
_RSA_SIZES = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
_SIGNING = re.compile(r"^(SHA256|SHA384|SHA512)WITH(RSA|ECDSA)(_PSS)?$")


def new_key(key_algorithm: str) -> Any:
    if key_algorithm in _RSA_SIZES:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_SIZES[key_algorithm])
    if key_algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[key_algorithm]())
    raise InvalidArgsException(f"The sandbox cannot make {key_algorithm} keys; use one of "
                               f"{', '.join(list(_RSA_SIZES) + list(_CURVES))}.")


def _family_of_key(key: Any) -> str:
    return "ECDSA" if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) else "RSA"


@dataclass(frozen=True)
class Signing:
    """How a SigningAlgorithm signs: its hash and, for RSA, its padding."""

    hash: Any
    family: str
    pss: bool

    @classmethod
    def parse(cls, name: str | None, key: Any, what: str = "SigningAlgorithm") -> "Signing":
        match = _SIGNING.match(name or "")
        if not match or (match.group(3) and match.group(2) != "RSA"):
            raise InvalidArgsException(f"{what} {name!r} is not supported.")
        family = match.group(2)
        if family != _family_of_key(key):
            # "The specified signing algorithm family (RSA or ECDSA) must match the algorithm
            # family of the CA's secret key."
            raise InvalidArgsException(f"{what} {name} does not match the algorithm family of the "
                                       f"certificate authority's key ({_family_of_key(key)}).")
        return cls(_HASHES[match.group(1)](), family, bool(match.group(3)))

    def padding(self) -> Any:
        if self.family != "RSA":
            return None
        if self.pss:
            return padding.PSS(mgf=padding.MGF1(self.hash), salt_length=padding.PSS.DIGEST_LENGTH)
        return padding.PKCS1v15()


# --- templates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    ca: bool
    key_usage: frozenset[str]
    extended_key_usage: tuple[Any, ...] = ()
    eku_critical: bool = False
    path_length: int | None = None
    root: bool = False
    csr_passthrough: bool = False


_EE_KU = frozenset({"digital_signature", "key_encipherment"})
_CA_KU = frozenset({"digital_signature", "key_cert_sign", "crl_sign"})
_BASE_TEMPLATES: dict[str, Template] = {
    "EndEntityCertificate": Template(False, _EE_KU, (ExtendedKeyUsageOID.SERVER_AUTH,
                                                     ExtendedKeyUsageOID.CLIENT_AUTH)),
    "EndEntityClientAuthCertificate": Template(False, _EE_KU, (ExtendedKeyUsageOID.CLIENT_AUTH,)),
    "EndEntityServerAuthCertificate": Template(False, _EE_KU, (ExtendedKeyUsageOID.SERVER_AUTH,)),
    "CodeSigningCertificate": Template(False, frozenset({"digital_signature"}),
                                       (ExtendedKeyUsageOID.CODE_SIGNING,), eku_critical=True),
    "OCSPSigningCertificate": Template(False, frozenset({"digital_signature"}),
                                       (ExtendedKeyUsageOID.OCSP_SIGNING,), eku_critical=True),
    "RootCACertificate": Template(True, _CA_KU, root=True),
    **{f"SubordinateCACertificate_PathLen{n}": Template(True, _CA_KU, path_length=n)
       for n in range(4)},
}
_PASSTHROUGH = re.compile(r"^(?P<base>.+?)(?:_(?P<kind>APIPassthrough|CSRPassthrough|APICSRPassthrough))?$")


def template_of(arn: str | None) -> Template:
    arn = arn or DEFAULT_TEMPLATE
    name = arn[len(TEMPLATE_PREFIX):] if arn.startswith(TEMPLATE_PREFIX) else ""
    base, _, version = name.partition("/")
    match = _PASSTHROUGH.match(base)
    template = _BASE_TEMPLATES.get(match.group("base")) if match and version == "V1" else None
    if template is None:
        raise InvalidArgsException(f"The template ARN {arn} is not supported.")
    if match.group("kind") in ("CSRPassthrough", "APICSRPassthrough"):
        return Template(**{**template.__dict__, "csr_passthrough": True})
    return template


def _key_usage(names: frozenset[str]) -> x509.KeyUsage:
    flags = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{flag: flag in names for flag in flags})


def extensions_for(template: Template, csr: x509.CertificateSigningRequest,
                   authority_key_id: x509.AuthorityKeyIdentifier) -> list[tuple[Any, bool]]:
    """The extensions a template puts on a certificate for `csr`, as the definitions list them."""
    exts: list[tuple[Any, bool]] = [
        (x509.BasicConstraints(ca=template.ca, path_length=template.path_length), template.ca),
        (authority_key_id, False),
        (x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), False),
        (_key_usage(template.key_usage), True),
    ]
    if template.extended_key_usage:
        exts.append((x509.ExtendedKeyUsage(list(template.extended_key_usage)), template.eku_critical))
    set_by_template = {type(value).oid for value, _ in exts}
    for ext in csr.extensions:
        if ext.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME or (
                template.csr_passthrough and ext.oid not in set_by_template):
            exts.append((ext.value, ext.critical))
    return exts


# --- validity -----------------------------------------------------------------------------------


def _add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _end_date(value: int) -> datetime.datetime:
    text = str(value)
    if len(text) == 12:  # UTCTime YYMMDDHHMMSS: YY >= 50 is 19YY, else 20YY
        century = "19" if int(text[:2]) >= 50 else "20"
        text = century + text
    if len(text) != 14:
        raise InvalidArgsException(f"Validity value {value} is not a date in the form "
                                   "YYMMDDHHMMSS or YYYYMMDDHHMMSS.")
    try:
        return datetime.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise InvalidArgsException(f"Validity value {value} is not a valid date.") from None


def not_after_of(validity: Any, issued: datetime.datetime) -> datetime.datetime:
    """The Not After date a Validity asks for, as the Validity data type defines it."""
    if not isinstance(validity, dict) or "Type" not in validity or "Value" not in validity:
        raise InvalidArgsException("Validity with a Type and a Value is required.")
    kind, value = validity["Type"], validity["Value"]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidArgsException(f"Validity value {value!r} must be a positive integer.")
    try:
        if kind == "DAYS":
            return issued + datetime.timedelta(days=value)
        if kind == "MONTHS":
            return _add_months(issued, value)
        if kind == "YEARS":
            return _add_months(issued, 12 * value)
        if kind == "ABSOLUTE":
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        if kind == "END_DATE":
            return _end_date(value)
    except (OverflowError, ValueError, OSError):
        raise InvalidArgsException(f"Validity value {value} is out of range.") from None
    raise InvalidArgsException(f"Validity type {kind!r} is not one of END_DATE, ABSOLUTE, DAYS, "
                               "MONTHS, YEARS.")


def not_before_of(validity: Any, issued: datetime.datetime) -> datetime.datetime:
    if validity is None:
        return issued - NOT_BEFORE_MARGIN
    if not isinstance(validity, dict) or validity.get("Type") != "ABSOLUTE":
        raise InvalidArgsException("ValidityNotBefore must be of type ABSOLUTE.")
    return not_after_of(validity, issued)


# --- the CA's state ------------------------------------------------------------------------------


@dataclass
class _Extra:
    """What the sandbox keeps beside moto's CertificateAuthority."""

    status: str = "PENDING_CERTIFICATE"
    creating_until: float = 0.0
    creating_hold: int | None = None
    key_algorithm: str = "RSA_2048"
    signing_algorithm: str = "SHA256WITHRSA"
    status_before_deletion: str = ""
    restorable_until: float | None = None
    # certificate ARN -> (monotonic time it is issued, hold mark)
    issuing: dict[str, tuple[float, int | None]] = field(default_factory=dict)


def extra(ca: Any) -> _Extra:
    found = ca.__dict__.get("_xwizard")
    if found is None:
        found = ca.__dict__["_xwizard"] = _Extra()
    return found


def _in_progress(until: float, mark: int | None) -> bool:
    import fault_injection

    return fault_injection.still_held(HOLD, mark) or time.monotonic() < until


def _expired(ca: Any) -> bool:
    cert = ca.certificate if ca.certificate_bytes else None
    return cert is not None and cert.not_valid_after_utc < datetime.datetime.now(datetime.timezone.utc)


def _status(ca: Any) -> str:
    state = extra(ca)
    if state.status == "PENDING_CERTIFICATE" and _in_progress(state.creating_until, state.creating_hold):
        return "CREATING"
    if state.status in ("ACTIVE", "DISABLED") and _expired(ca):
        return "EXPIRED"
    return state.status


def _set_status(ca: Any, value: str) -> None:
    extra(ca).status = value


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _load_csr(blob: Any) -> x509.CertificateSigningRequest:
    """The CSR of a request: a PEM, base64-encoded once more by the JSON protocol."""
    try:
        pem = base64.b64decode(blob or "", validate=True)
        csr = x509.load_pem_x509_csr(pem)
    except (ValueError, TypeError):
        raise MalformedCSRException("The certificate signing request is invalid.") from None
    if not csr.is_signature_valid:
        raise MalformedCSRException("The certificate signing request's signature is not valid.")
    try:
        has_san = bool(csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME))
    except x509.ExtensionNotFound:
        has_san = False
    if not len(csr.subject) and not has_san:
        # "A CSR must provide either a subject name or a subject alternative name."
        raise MalformedCSRException("The certificate signing request has neither a subject name "
                                    "nor a subject alternative name.")
    return csr


def issue(ca: Any, params: dict[str, Any]) -> str:
    """IssueCertificate: checks as AWS does, builds the certificate, returns its ARN."""
    import fault_injection
    from moto.moto_api._internal import mock_random
    from moto.utilities.utils import get_partition

    template = template_of(params.get("TemplateArn"))
    status = _status(ca)
    self_signing = (template.root and status == "PENDING_CERTIFICATE"
                    and ca.certificate_authority_type == "ROOT")
    if status != "ACTIVE" and not self_signing:
        raise InvalidStateException(ISSUING_STATE_MESSAGE)
    csr = _load_csr(params.get("Csr"))
    key = ca.key
    signing = Signing.parse(params.get("SigningAlgorithm"), key)
    issued = _now()
    not_after = not_after_of(params.get("Validity"), issued)
    not_before = not_before_of(params.get("ValidityNotBefore"), issued)
    if not_after <= not_before:
        raise ValidationException("The certificate's validity ends before it starts.")
    # Short-lived mode limits the certificates the CA issues to end entities, not CA certificates
    # (its own, self-signed, among them).
    if ca.usage_mode == "SHORT_LIVED_CERTIFICATE" and not template.ca and \
            not_after - issued > datetime.timedelta(days=SHORT_LIVED_DAYS):
        raise ValidationException(f"A certificate authority in SHORT_LIVED_CERTIFICATE mode issues "
                                  f"certificates valid for at most {SHORT_LIVED_DAYS} days.")
    if self_signing:
        issuer_name = csr.subject
        authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(csr.public_key())
        chain = b""
    else:
        ca_cert = ca.certificate
        if not_after > ca_cert.not_valid_after_utc:
            raise ValidationException("The certificate validity specified exceeds the certificate "
                                      "authority validity.")
        issuer_name = ca_cert.subject
        try:
            ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            authority_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
        chain = ca.certificate_bytes.strip() + b"\n" + (_chain_bytes(ca.certificate_chain) or b"")
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(issuer_name)
               .public_key(csr.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    for value, critical in extensions_for(template, csr, authority_key_id):
        builder = builder.add_extension(value, critical)
    certificate = builder.sign(key, signing.hash, rsa_padding=signing.padding())
    cert_id = mock_random.uuid4().hex
    arn = (f"arn:{get_partition(ca.region_name)}:acm-pca:{ca.region_name}:{ca.account_id}:"
           f"certificate-authority/{ca.id}/certificate/{cert_id}")
    ca.issued_certificates[arn] = certificate.public_bytes(serialization.Encoding.PEM)
    if chain.strip():
        ca.issued_certificates_certificate_chains[arn] = chain.strip() + b"\n"
    extra(ca).issuing[arn] = (time.monotonic() + _PACE["certificate_issuing"],
                              fault_injection.hold_mark(HOLD))
    return arn


# --- moto's models, mended ----------------------------------------------------------------------


def _csr_of(self: Any) -> bytes:
    """The CA's CSR, signed with its own SigningAlgorithm (moto: SHA-256 always)."""
    state = extra(self)
    signing = Signing.parse(state.signing_algorithm, self.key)
    csr = (x509.CertificateSigningRequestBuilder().subject_name(self.issuer)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .sign(self.key, signing.hash, rsa_padding=signing.padding()))
    return csr.public_bytes(serialization.Encoding.PEM)


def _to_json(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def to_json(self: Any) -> dict[str, Any]:
        doc = original(self)
        state = extra(self)
        if doc.get("Status") == "DELETED" and state.restorable_until is not None:
            doc["RestorableUntil"] = state.restorable_until
        if self.certificate_bytes:
            doc["Serial"] = format(self.certificate.serial_number, "x")
        return doc

    return to_json


def _permanently_deleting(original: Callable[..., Any]) -> Callable[..., Any]:
    """A DELETED CA past its restoration period is gone, as AWS deletes it permanently."""

    def describe(self: Any, certificate_authority_arn: str) -> Any:
        ca = self.certificate_authorities.get(certificate_authority_arn)
        if ca is not None and _gone(ca):
            del self.certificate_authorities[certificate_authority_arn]
        return original(self, certificate_authority_arn)

    return describe


def _gone(ca: Any) -> bool:
    state = extra(ca)
    return state.status == "DELETED" and state.restorable_until is not None \
        and time.time() >= state.restorable_until


def _listing_without_the_gone(original: Callable[..., Any]) -> Callable[..., Any]:
    def list_certificate_authorities(self: Any, *args: Any, **kwargs: Any) -> Any:
        for arn, ca in list(self.certificate_authorities.items()):
            if _gone(ca):
                del self.certificate_authorities[arn]
        return original(self, *args, **kwargs)

    return list_certificate_authorities


# --- the API, mended ----------------------------------------------------------------------------


def _params(response: Any) -> dict[str, Any]:
    return json.loads(response.body or "{}")


def _ca(response: Any, arn: str | None) -> Any:
    return response.acmpca_backend.describe_certificate_authority(arn)


def create_certificate_authority(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def create(self: Any) -> str:
        import fault_injection

        params = _params(self)
        config = params.get("CertificateAuthorityConfiguration") or {}
        key_algorithm = config.get("KeyAlgorithm") or ""
        key = new_key(key_algorithm)
        Signing.parse(config.get("SigningAlgorithm"), key, "SigningAlgorithm")
        if params.get("CertificateAuthorityType") not in ("ROOT", "SUBORDINATE"):
            raise InvalidArgsException("CertificateAuthorityType must be ROOT or SUBORDINATE.")
        usage_mode = params.get("UsageMode") or "GENERAL_PURPOSE"
        if usage_mode not in ("GENERAL_PURPOSE", "SHORT_LIVED_CERTIFICATE"):
            raise InvalidArgsException(f"UsageMode {usage_mode!r} is not one of GENERAL_PURPOSE, "
                                       "SHORT_LIVED_CERTIFICATE.")
        answer = original(self)
        ca = self.acmpca_backend.certificate_authorities[json.loads(answer)["CertificateAuthorityArn"]]
        ca.private_bytes = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(ca.password))
        ca.usage_mode = usage_mode
        state = extra(ca)
        state.key_algorithm, state.signing_algorithm = key_algorithm, config["SigningAlgorithm"]
        state.creating_until = time.monotonic() + _PACE["ca_creating"]
        state.creating_hold = fault_injection.hold_mark(HOLD)
        return answer

    return create


def get_certificate_authority_csr(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def get_csr(self: Any) -> str:
        ca = _ca(self, _params(self).get("CertificateAuthorityArn"))
        if _status(ca) == "CREATING":
            raise RequestInProgressException(
                "The certificate authority's certificate signing request is not ready yet.")
        return original(self)

    return get_csr


def issue_certificate(self: Any) -> str:
    params = _params(self)
    ca = _ca(self, params.get("CertificateAuthorityArn"))
    return json.dumps({"CertificateArn": issue(ca, params)})


def get_certificate(self: Any) -> str:
    params = _params(self)
    arn = params.get("CertificateAuthorityArn")
    ca = _ca(self, arn)
    if _status(ca) == "DELETED":
        raise InvalidStateException(
            f"The certificate authority {arn} is not in the correct state to have issued certificates.")
    cert_arn = params.get("CertificateArn")
    certificate = ca.issued_certificates.get(cert_arn)
    if certificate is None:
        raise ResourceNotFoundException(f"Could not find certificate {cert_arn}.")
    ready, mark = extra(ca).issuing.get(cert_arn, (0.0, None))
    if _in_progress(ready, mark):
        raise RequestInProgressException("Your request is already in progress.")
    answer = {"Certificate": certificate.decode().strip()}
    chain = ca.issued_certificates_certificate_chains.get(cert_arn)
    if chain:
        answer["CertificateChain"] = chain.decode().strip()
    return json.dumps(answer)


def delete_certificate_authority(self: Any) -> str:
    params = _params(self)
    arn = params.get("CertificateAuthorityArn")
    ca = _ca(self, arn)
    days = params.get("PermanentDeletionTimeInDays", DEFAULT_RESTORATION_DAYS)
    if not isinstance(days, int) or not 7 <= days <= 30:
        raise ValidationException("PermanentDeletionTimeInDays must be between 7 and 30.")
    status = _status(ca)
    if status not in ("PENDING_CERTIFICATE", "CREATING", "EXPIRED", "DISABLED", "FAILED"):
        raise InvalidStateException(DELETION_STATE_MESSAGE)
    if status in ("CREATING", "FAILED"):
        # "A private CA deleted in the CREATING or FAILED state has no assigned restoration
        # period and cannot be restored."
        del self.acmpca_backend.certificate_authorities[arn]
        return "{}"
    state = extra(ca)
    state.status_before_deletion = state.status
    state.status = "DELETED"
    state.restorable_until = time.time() + days * 86400
    ca.updated_at = time.time()
    return "{}"


def restore_certificate_authority(self: Any) -> str:
    arn = _params(self).get("CertificateAuthorityArn")
    ca = _ca(self, arn)
    state = extra(ca)
    if state.status != "DELETED":
        raise InvalidStateException(f"The certificate authority {arn} is not DELETED, so it "
                                    "cannot be restored.")
    state.status, state.restorable_until = state.status_before_deletion, None
    ca.updated_at = time.time()
    return "{}"


def update_certificate_authority(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def update(self: Any) -> str:
        params = _params(self)
        ca = _ca(self, params.get("CertificateAuthorityArn"))
        wanted = params.get("Status")
        if wanted is not None and wanted not in ("ACTIVE", "DISABLED"):
            raise InvalidArgsException(f"Status {wanted} cannot be set; use ACTIVE or DISABLED.")
        if _status(ca) not in ("ACTIVE", "DISABLED"):
            raise InvalidStateException(
                f"The certificate authority {params.get('CertificateAuthorityArn')} is "
                f"{_status(ca)}; only an ACTIVE or DISABLED certificate authority can be updated.")
        return original(self)

    return update


def import_certificate_authority_certificate(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def import_certificate(self: Any) -> str:
        params = _params(self)
        ca = _ca(self, params.get("CertificateAuthorityArn"))
        status = _status(ca)
        if status not in ("PENDING_CERTIFICATE", "ACTIVE", "EXPIRED"):
            raise InvalidStateException(
                f"The certificate authority {params.get('CertificateAuthorityArn')} is {status}; its "
                "certificate can be imported only while it is PENDING_CERTIFICATE, ACTIVE or EXPIRED.")
        try:
            cert = x509.load_pem_x509_certificate(base64.b64decode(params.get("Certificate") or ""))
        except ValueError:
            cert = None
        if cert is not None and cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
                ca.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo):
            raise CertificateMismatchException(
                "The certificate authority certificate you are importing does not comply with "
                "conditions specified in the certificate that signed it.")
        return original(self)

    return import_certificate


def _chain_bytes(blob: Any) -> bytes | None:
    """The PEM chain moto kept as it came: base64 of the PEM (the JSON protocol's blob)."""
    if not blob:
        return None
    if isinstance(blob, bytes):
        blob = blob.decode()
    if "-----BEGIN" in blob:
        return blob.encode()
    try:
        return base64.b64decode(blob, validate=True)
    except (ValueError, TypeError):
        return None


def install(ctx: Any) -> None:
    from moto.acmpca.models import ACMPCABackend, CertificateAuthority
    from moto.acmpca.responses import ACMPCAResponse

    _PACE["ca_creating"] = ctx.pace.get("ca_creating", _PACE["ca_creating"])
    _PACE["certificate_issuing"] = ctx.pace.get("certificate_issuing", _PACE["certificate_issuing"])
    if getattr(ACMPCAResponse, "_xwizard", False):
        return
    ACMPCAResponse._xwizard = True
    CertificateAuthority.status = property(_status, _set_status)
    CertificateAuthority.csr = property(_csr_of)
    CertificateAuthority.to_json = _to_json(CertificateAuthority.to_json)
    ACMPCABackend.describe_certificate_authority = _permanently_deleting(
        ACMPCABackend.describe_certificate_authority)
    ACMPCABackend.list_certificate_authorities = _listing_without_the_gone(
        ACMPCABackend.list_certificate_authorities)
    ACMPCAResponse.create_certificate_authority = create_certificate_authority(
        ACMPCAResponse.create_certificate_authority)
    ACMPCAResponse.get_certificate_authority_csr = get_certificate_authority_csr(
        ACMPCAResponse.get_certificate_authority_csr)
    ACMPCAResponse.update_certificate_authority = update_certificate_authority(
        ACMPCAResponse.update_certificate_authority)
    ACMPCAResponse.import_certificate_authority_certificate = \
        import_certificate_authority_certificate(ACMPCAResponse.import_certificate_authority_certificate)
    ACMPCAResponse.issue_certificate = issue_certificate
    ACMPCAResponse.get_certificate = get_certificate
    ACMPCAResponse.delete_certificate_authority = delete_certificate_authority
    ACMPCAResponse.restore_certificate_authority = restore_certificate_authority
