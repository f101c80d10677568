"""Custom domain names for private REST APIs (API Gateway, November 2024), which moto lacks.

A private custom domain name is its own resource, apart from public (EDGE/REGIONAL) ones of the
same name: API Gateway gives it an id (`domainNameId`) and an account-scoped ARN
(`arn:aws:apigateway:<region>:<account>:/domainnames/<name>+<id>`), and every call about it
names that id. It has its own execute-api resource policy; base path mappings map it to stages
of private APIs; and a VPC endpoint reaches it only through a *domain name access association*
(`arn:…:<endpoint owner>:/domainnameaccessassociations/domainname/<name>+<id>/vpcesource/
<vpce-id>`) made by the endpoint's owner. This module keeps them, and serves:

  * the API: CreateDomainName with a PRIVATE endpoint configuration, GetDomainName /
    DeleteDomainName / UpdateDomainName (policy, certificate) with `domainNameId`, GetDomainNames
    (private ones listed beside moto's with `resourceOwner=SELF`), Create/Get/Delete
    BasePathMapping(s) with `domainNameId`, Create/Get/Delete DomainNameAccessAssociation(s) and
    RejectDomainNameAccessAssociation;
  * CloudFormation: AWS::ApiGateway::DomainNameV2 (Ref = DomainNameArn; GetAtt DomainNameArn,
    DomainNameId), AWS::ApiGateway::BasePathMappingV2 (Ref = GetAtt BasePathMappingArn),
    AWS::ApiGateway::DomainNameAccessAssociation (Ref = GetAtt DomainNameAccessAssociationArn);
  * the data plane: `route(host, region, source_vpce)` finds the domain name a request through
    an execute-api endpoint names by its Host header, when that endpoint is associated with it.

What AWS checks and the sandbox checks too: the ACM certificate exists in the account and
region, is ISSUED and covers the name; the only endpoint type is PRIVATE and the only security
policy TLS_1_2; a base path mapping names an existing API and stage; an association's source is
an execute-api interface endpoint of the caller's account. Not reproduced: sharing a domain name
with other accounts through AWS RAM (an association to another account's domain name is refused
as if the name did not exist), routing modes, and management policies.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.moto_api._internal import mock_random

import cfn_resource_types as cfn
from cfn_resource_types import _Handle

_lock = threading.RLock()
# (account, region) -> {domain name ARN: PrivateDomainName}
_domains: dict[tuple[str, str], dict[str, "PrivateDomainName"]] = {}
# (account of the association's creator, region) -> {association ARN: AccessAssociation}
_associations: dict[tuple[str, str], dict[str, "AccessAssociation"]] = {}

_DOMAIN_ARN = re.compile(
    r"^arn:aws[\w-]*:apigateway:(?P<region>[\w-]+):(?P<account>\d{12}):/domainnames/"
    r"(?P<name>[^+/]+)\+(?P<id>[a-z0-9]+)$")


@dataclass
class PrivateDomainName:
    account_id: str
    region: str
    domain_name: str
    domain_name_id: str
    certificate_arn: str
    security_policy: str
    policy: str | None
    tags: dict[str, str]
    created: float = field(default_factory=time.time)
    # base path ("" for none) -> (rest API id, stage name)
    mappings: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return (f"arn:aws:apigateway:{self.region}:{self.account_id}:/domainnames/"
                f"{self.domain_name}+{self.domain_name_id}")

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "domainName": self.domain_name,
            "domainNameId": self.domain_name_id,
            "domainNameArn": self.arn,
            "certificateArn": self.certificate_arn,
            "certificateUploadDate": int(self.created),
            "endpointConfiguration": {"types": ["PRIVATE"], "ipAddressType": "ipv4"},
            "domainNameStatus": "AVAILABLE",
            "securityPolicy": self.security_policy,
            "tags": dict(self.tags),
        }
        if self.policy:
            document["policy"] = self.policy
        return document

    def mapping_json(self, base_path: str) -> dict[str, Any]:
        api_id, stage = self.mappings[base_path]
        document = {"basePath": base_path or "(none)", "restApiId": api_id}
        if stage:
            document["stage"] = stage
        return document


@dataclass
class AccessAssociation:
    account_id: str  # the endpoint owner, who made it
    region: str
    domain_name_arn: str
    source_type: str
    source: str
    tags: dict[str, str]
    rejected: bool = False

    @property
    def arn(self) -> str:
        match = _DOMAIN_ARN.match(self.domain_name_arn)
        name = f"{match['name']}+{match['id']}" if match else self.domain_name_arn
        return (f"arn:aws:apigateway:{self.region}:{self.account_id}:/domainnameaccessassociations/"
                f"domainname/{name}/vpcesource/{self.source}")

    def to_json(self) -> dict[str, Any]:
        return {
            "domainNameAccessAssociationArn": self.arn,
            "domainNameArn": self.domain_name_arn,
            "accessAssociationSourceType": self.source_type,
            "accessAssociationSource": self.source,
            "tags": dict(self.tags),
        }


# --- errors, as API Gateway words them -----------------------------------------------------------


def _bad_request(message: str) -> Exception:
    from moto.apigateway.exceptions import BadRequestException

    return BadRequestException(message)


def _not_found(message: str = "Invalid domain name identifier specified") -> Exception:
    from moto.apigateway.exceptions import NotFoundException

    error = NotFoundException(message)
    error.code = 404
    return error


def _conflict(message: str) -> Exception:
    from moto.apigateway.exceptions import ConflictException

    return ConflictException(message)


# --- the model ----------------------------------------------------------------------------------


def _covers(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def _check_certificate(account_id: str, region: str, arn: str, domain_name: str) -> None:
    from moto.acm.models import acm_backends

    if not arn:
        raise _bad_request("A certificate ARN is required for a private custom domain name")
    match = re.match(r"^arn:aws[\w-]*:acm:([\w-]+):(\d{12}):certificate/.+$", arn)
    if match is None or match.group(1) != region or match.group(2) != account_id:
        raise _bad_request(f"Invalid certificate ARN: {arn}. Certificate must be in '{region}'.")
    acm = acm_backends[account_id][region]
    bundle = acm._certificates.get(arn)
    if bundle is None:
        raise _bad_request(f"Certificate {arn} not found")
    if bundle.status != "ISSUED":
        raise _bad_request(f"Certificate {arn} is not in the ISSUED state")
    names = set(bundle.sans) | ({bundle.common_name} if bundle.common_name else set())
    if not any(_covers(n, domain_name) for n in names):
        raise _bad_request(f"The certificate {arn} does not cover the domain name {domain_name}")


def _policy_text(policy: Any) -> str | None:
    if policy is None or policy == "":
        return None
    return policy if isinstance(policy, str) else json.dumps(policy)


def create_domain(account_id: str, region: str, domain_name: str, certificate_arn: str,
                  endpoint_types: list[str], security_policy: str | None, policy: Any,
                  tags: dict[str, str] | None) -> PrivateDomainName:
    if not domain_name:
        raise _bad_request("Domain name is required")
    if list(endpoint_types) != ["PRIVATE"]:
        raise _bad_request("A private custom domain name must have the endpoint type PRIVATE")
    security_policy = security_policy or "TLS_1_2"
    if security_policy != "TLS_1_2":
        raise _bad_request("Private custom domain names only support the TLS_1_2 security policy")
    _check_certificate(account_id, region, certificate_arn, domain_name)
    domain = PrivateDomainName(
        account_id=account_id, region=region, domain_name=domain_name.lower(),
        domain_name_id=mock_random.get_random_string(8, lower_case=True),
        certificate_arn=certificate_arn, security_policy=security_policy,
        policy=_policy_text(policy), tags=dict(tags or {}))
    with _lock:
        _domains.setdefault((account_id, region), {})[domain.arn] = domain
    return domain


def get_domain(account_id: str, region: str, domain_name: str,
               domain_name_id: str) -> PrivateDomainName:
    arn = (f"arn:aws:apigateway:{region}:{account_id}:/domainnames/"
           f"{domain_name.lower()}+{domain_name_id}")
    with _lock:
        domain = _domains.get((account_id, region), {}).get(arn)
    if domain is None:
        raise _not_found()
    return domain


def domain_by_arn(arn: str) -> PrivateDomainName | None:
    match = _DOMAIN_ARN.match(arn or "")
    if match is None:
        return None
    with _lock:
        return _domains.get((match["account"], match["region"]), {}).get(arn)


def delete_domain(domain: PrivateDomainName) -> None:
    # Its base path mappings go with it; associations belong to the endpoint owners.
    with _lock:
        _domains.get((domain.account_id, domain.region), {}).pop(domain.arn, None)


def create_mapping(domain: PrivateDomainName, base_path: str | None, rest_api_id: str,
                   stage: str | None) -> str:
    from moto.apigateway.exceptions import (
        InvalidBasePathException,
        InvalidRestApiIdForBasePathMappingException,
        InvalidStageException,
    )

    base_path = "" if base_path in (None, "(none)") else base_path
    if "/" in base_path:
        raise InvalidBasePathException()
    api = cfn._apigw(domain.account_id, domain.region).apis.get(rest_api_id or "")
    if api is None:
        raise InvalidRestApiIdForBasePathMappingException()
    if stage and api.stages.get(stage) is None:
        raise InvalidStageException()
    if (api.endpoint_configuration or {}).get("types") != ["PRIVATE"]:
        raise _bad_request("Only private APIs can be mapped to a private custom domain name")
    with _lock:
        if base_path in domain.mappings:
            raise _conflict("Base path already exists for this domain name")
        domain.mappings[base_path] = (rest_api_id, stage)
    return base_path


def mapping_arn(domain: PrivateDomainName, base_path: str) -> str:
    return f"{domain.arn}/basepathmappings/{base_path or '(none)'}"


def create_association(account_id: str, region: str, domain_name_arn: str, source_type: str,
                       source: str, tags: dict[str, str] | None) -> AccessAssociation:
    if source_type != "VPCE":
        raise _bad_request("accessAssociationSourceType must be VPCE")
    domain = domain_by_arn(domain_name_arn)
    if domain is None or domain.account_id != account_id:
        # Another account's name reaches the caller only through an AWS RAM share.
        raise _not_found()
    endpoint = cfn._ec2(account_id, region).vpc_end_points.get(source or "")
    if endpoint is None or endpoint.service_name != f"com.amazonaws.{region}.execute-api":
        raise _bad_request(f"Invalid VPC endpoint {source}: it must be an execute-api interface "
                           "endpoint of this account")
    association = AccessAssociation(account_id, region, domain_name_arn, source_type, source,
                                    dict(tags or {}))
    with _lock:
        found = _associations.setdefault((account_id, region), {})
        if association.arn in found:
            raise _conflict("A domain name access association already exists for this source")
        found[association.arn] = association
    return association


def association_by_arn(arn: str) -> AccessAssociation | None:
    with _lock:
        for found in _associations.values():
            if arn in found:
                return found[arn]
    return None


def delete_association(account_id: str, arn: str) -> None:
    association = association_by_arn(arn)
    if association is None or association.account_id != account_id:
        # "Only the AWS account that created the DomainNameAccessAssociation can delete it."
        raise _not_found("Invalid domain name access association identifier specified")
    with _lock:
        _associations.get((association.account_id, association.region), {}).pop(arn, None)


def route(host: str, region: str, source_vpce: str | None) -> tuple[PrivateDomainName, str] | None:
    """The private domain name `host` names for a request that came through `source_vpce`, and
    the association that lets it: only an endpoint associated with a domain name reaches it."""
    if not source_vpce:
        return None
    host = host.split(":")[0].lower().rstrip(".")
    with _lock:
        associations = [a for found in _associations.values() for a in found.values()
                        if a.region == region and a.source == source_vpce and not a.rejected]
        for association in associations:
            domain = domain_by_arn(association.domain_name_arn)
            if domain is not None and domain.domain_name == host:
                return domain, association.arn
    return None


def _forget() -> None:
    with _lock:
        _domains.clear()
        _associations.clear()


# --- CloudFormation -----------------------------------------------------------------------------


class DomainNameV2(_Handle, CloudFormationModel):
    """AWS::ApiGateway::DomainNameV2 (private custom domain name). Ref = DomainNameArn."""

    TYPE = "AWS::ApiGateway::DomainNameV2"
    ATTRIBUTES = {"DomainNameArn": "physical_id", "DomainNameId": "domain_name_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        endpoint = props.get("EndpointConfiguration") or {}
        domain = create_domain(
            account_id, region_name, props.get("DomainName") or "",
            props.get("CertificateArn") or "",
            endpoint.get("Types") or ["PRIVATE"], props.get("SecurityPolicy"), props.get("Policy"),
            cfn._tags_dict(props.get("Tags")))
        handle = cls(account_id, region_name, domain.arn)
        handle.domain_name_id = domain.domain_name_id
        handle.domain_name = domain.domain_name
        return handle

    def _update(self, props):
        domain = domain_by_arn(self.physical_id)
        if domain is None or (props.get("DomainName") or "").lower() != domain.domain_name:
            return False
        if props.get("CertificateArn") != domain.certificate_arn:
            _check_certificate(domain.account_id, domain.region, props.get("CertificateArn") or "",
                               domain.domain_name)
            domain.certificate_arn = props["CertificateArn"]
        domain.policy = _policy_text(props.get("Policy"))
        domain.tags = cfn._tags_dict(props.get("Tags"))
        return True

    def _delete(self):
        domain = domain_by_arn(self.physical_id)
        if domain is not None:
            delete_domain(domain)


class BasePathMappingV2(_Handle, CloudFormationModel):
    """AWS::ApiGateway::BasePathMappingV2. Ref = BasePathMappingArn."""

    TYPE = "AWS::ApiGateway::BasePathMappingV2"
    REQUIRED = ("DomainNameArn", "RestApiId")
    ATTRIBUTES = {"BasePathMappingArn": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        domain = domain_by_arn(props["DomainNameArn"])
        if domain is None or domain.account_id != account_id:
            raise _not_found()
        base_path = create_mapping(domain, props.get("BasePath"), props["RestApiId"],
                                   props.get("Stage"))
        handle = cls(account_id, region_name, mapping_arn(domain, base_path))
        handle.domain_name_arn, handle.base_path = domain.arn, base_path
        return handle

    def _update(self, props):
        domain = domain_by_arn(self.domain_name_arn)
        base_path = "" if props.get("BasePath") in (None, "(none)") else props["BasePath"]
        if domain is None or props.get("DomainNameArn") != domain.arn \
                or base_path != self.base_path:
            return False
        with _lock:
            domain.mappings.pop(self.base_path, None)
        create_mapping(domain, base_path, props["RestApiId"], props.get("Stage"))
        return True

    def _delete(self):
        domain = domain_by_arn(self.domain_name_arn)
        if domain is not None:
            with _lock:
                domain.mappings.pop(self.base_path, None)


class DomainNameAccessAssociation(_Handle, CloudFormationModel):
    """AWS::ApiGateway::DomainNameAccessAssociation. Ref = DomainNameAccessAssociationArn."""

    TYPE = "AWS::ApiGateway::DomainNameAccessAssociation"
    REQUIRED = ("DomainNameArn", "AccessAssociationSource", "AccessAssociationSourceType")
    ATTRIBUTES = {"DomainNameAccessAssociationArn": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        association = create_association(
            account_id, region_name, props["DomainNameArn"], props["AccessAssociationSourceType"],
            props["AccessAssociationSource"], cfn._tags_dict(props.get("Tags")))
        return cls(account_id, region_name, association.arn)

    def _delete(self):
        if association_by_arn(self.physical_id) is not None:
            delete_association(self.account_id, self.physical_id)


# --- the API ------------------------------------------------------------------------------------


def _query(response: Any, name: str) -> str | None:
    values = response.querystring.get(name)
    return values[0] if values else None


def _body(response: Any) -> dict[str, Any]:
    try:
        return json.loads(response.body or "{}") or {}
    except ValueError:
        return {}


def _private_domain(response: Any) -> PrivateDomainName | None:
    """The private domain name a request names with ?domainNameId=, or None for a public one."""
    domain_name_id = _query(response, "domainNameId")
    if not domain_name_id:
        return None
    from urllib.parse import unquote

    name = unquote(response.path.split("/")[2])
    return get_domain(response.current_account, response.region, name, domain_name_id)


def _wrap(original: Any, private: Any) -> Any:
    """Serve the private form of an action, else moto's own."""

    def handler(self: Any) -> Any:
        answer = private(self)
        return original(self) if answer is None else answer

    handler._sandbox_patched = True  # type: ignore[attr-defined]
    return handler


def _create_domain_name(self: Any) -> Any:
    body = _body(self)
    types = (body.get("endpointConfiguration") or {}).get("types") or []
    if "PRIVATE" not in types:
        return None
    domain = create_domain(self.current_account, self.region, body.get("domainName") or "",
                           body.get("certificateArn") or "", types, body.get("securityPolicy"),
                           body.get("policy"), body.get("tags"))
    return 201, {"status": 201}, json.dumps(domain.to_json())


def _get_domain_name(self: Any) -> Any:
    domain = _private_domain(self)
    return None if domain is None else json.dumps(domain.to_json())


def _delete_domain_name(self: Any) -> Any:
    domain = _private_domain(self)
    if domain is None:
        return None
    delete_domain(domain)
    return 202, {"status": 202}, "{}"


def _update_domain_name(self: Any) -> Any:
    domain = _private_domain(self)
    if domain is None:
        return None
    for op in _body(self).get("patchOperations") or []:
        path, value = op.get("path"), op.get("value")
        if path == "/policy" and op.get("op") == "replace":
            domain.policy = _policy_text(value)
        elif path == "/certificateArn" and op.get("op") == "replace":
            _check_certificate(domain.account_id, domain.region, value or "", domain.domain_name)
            domain.certificate_arn = value
        else:
            raise _bad_request(f"Invalid patch path '{path}' specified for op '{op.get('op')}'")
    return json.dumps(domain.to_json())


def _get_domain_names(self: Any) -> Any:
    owner = _query(self, "resourceOwner") or "SELF"
    with _lock:
        private = list(_domains.get((self.current_account, self.region), {}).values())
    if owner == "OTHER_ACCOUNTS":
        return json.dumps({"item": []})  # no AWS RAM shares in the sandbox
    from moto.apigateway.models import apigateway_backends

    public = apigateway_backends[self.current_account][self.region].get_domain_names()
    return json.dumps({"item": [d.to_json() for d in public] + [d.to_json() for d in private]})


def _create_base_path_mapping(self: Any) -> Any:
    domain = _private_domain(self)
    if domain is None:
        return None
    body = _body(self)
    base_path = create_mapping(domain, body.get("basePath"), body.get("restApiId") or "",
                               body.get("stage"))
    return 201, {"status": 201}, json.dumps(domain.mapping_json(base_path))


def _mapping_path(self: Any) -> str:
    from urllib.parse import unquote

    base_path = unquote(self.path.split("/")[4])
    return "" if base_path == "(none)" else base_path


def _get_base_path_mappings(self: Any) -> Any:
    domain = _private_domain(self)
    if domain is None:
        return None
    return json.dumps({"item": [domain.mapping_json(p) for p in sorted(domain.mappings)]})


def _get_base_path_mapping(self: Any) -> Any:
    domain = _private_domain(self)
    if domain is None:
        return None
    base_path = _mapping_path(self)
    if base_path not in domain.mappings:
        from moto.apigateway.exceptions import BasePathNotFoundException

        raise BasePathNotFoundException()
    return json.dumps(domain.mapping_json(base_path))


def _delete_base_path_mapping(self: Any) -> Any:
    domain = _private_domain(self)
    if domain is None:
        return None
    base_path = _mapping_path(self)
    with _lock:
        if domain.mappings.pop(base_path, None) is None:
            from moto.apigateway.exceptions import BasePathNotFoundException

            raise BasePathNotFoundException()
    return 202, {"status": 202}, ""


def create_domain_name_access_association(self: Any) -> Any:
    body = _body(self)
    association = create_association(
        self.current_account, self.region, body.get("domainNameArn") or "",
        body.get("accessAssociationSourceType") or "", body.get("accessAssociationSource") or "",
        body.get("tags"))
    return 201, {"status": 201}, json.dumps(association.to_json())


def get_domain_name_access_associations(self: Any) -> Any:
    owner = _query(self, "resourceOwner") or "SELF"
    with _lock:
        every = [a for found in _associations.values() for a in found.values()
                 if a.region == self.region]
    if owner == "SELF":
        rows = [a for a in every if a.account_id == self.current_account]
    else:  # OTHER_ACCOUNTS: made by others to this account's domain names
        rows = [a for a in every if a.account_id != self.current_account
                and f":{self.current_account}:/domainnames/" in a.domain_name_arn]
    return json.dumps({"item": [a.to_json() for a in rows]})


def delete_domain_name_access_association(self: Any) -> Any:
    from urllib.parse import unquote

    arn = unquote(self.path.split("/domainnameaccessassociations/", 1)[1])
    delete_association(self.current_account, arn)
    return 202, {"status": 202}, ""


def reject_domain_name_access_association(self: Any) -> Any:
    association = association_by_arn(_query(self, "domainNameAccessAssociationArn") or "")
    domain = domain_by_arn(_query(self, "domainNameArn") or "")
    if association is None or domain is None or domain.account_id != self.current_account \
            or association.domain_name_arn != domain.arn:
        raise _not_found("Invalid domain name access association identifier specified")
    association.rejected = True
    return 202, {"status": 202}, ""


def install(_ctx: Any) -> None:
    import control_api
    from moto.apigateway import urls
    from moto.apigateway.responses import APIGatewayResponse

    if getattr(APIGatewayResponse.get_domain_name, "_sandbox_patched", False):
        return
    for name, private in (
        ("create_domain_name", _create_domain_name),
        ("get_domain_name", _get_domain_name),
        ("delete_domain_name", _delete_domain_name),
        ("create_base_path_mapping", _create_base_path_mapping),
        ("get_base_path_mappings", _get_base_path_mappings),
        ("get_base_path_mapping", _get_base_path_mapping),
        ("delete_base_path_mapping", _delete_base_path_mapping),
    ):
        setattr(APIGatewayResponse, name, _wrap(getattr(APIGatewayResponse, name), private))
    APIGatewayResponse.get_domain_names = _get_domain_names
    APIGatewayResponse.update_domain_name = _wrap(
        getattr(APIGatewayResponse, "update_domain_name",
                lambda self: self.error("BadRequestException", "Not supported")),
        _update_domain_name)
    APIGatewayResponse.create_domain_name_access_association = create_domain_name_access_association
    APIGatewayResponse.get_domain_name_access_associations = get_domain_name_access_associations
    APIGatewayResponse.delete_domain_name_access_association = delete_domain_name_access_association
    APIGatewayResponse.reject_domain_name_access_association = reject_domain_name_access_association
    urls.url_paths["{0}/domainnameaccessassociations$"] = APIGatewayResponse.dispatch
    urls.url_paths["{0}/domainnameaccessassociations/(?P<arn>.+)$"] = APIGatewayResponse.dispatch
    urls.url_paths["{0}/rejectdomainnameaccessassociations$"] = APIGatewayResponse.dispatch
    control_api.on_reset(_forget)
    cfn._refresh_model_maps()

