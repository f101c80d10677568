"""AWS PrivateLink between accounts: permissions, connection acceptance, ENIs and private DNS.

What AWS does and moto 5.2.5 does not:
- CreateVpcEndpoint (also reached from CloudFormation's AWS::EC2::VPCEndpoint) to an endpoint
  service checks the service's allowed principals: a caller that is not allowed (its account
  root, its own ARN, or `*`) gets InvalidServiceName, as if the service did not exist. A service
  with AcceptanceRequired leaves the endpoint `pendingAcceptance`; otherwise it goes `pending`,
  then `available`. AWS services (com.amazonaws.<region>.<service>) are always allowed.
- The service owner sees those endpoints with DescribeVpcEndpointConnections and answers them with
  AcceptVpcEndpointConnections / RejectVpcEndpointConnections; the consumer's endpoint follows
  (pending -> available, or rejected).
- DescribeVpcEndpointServices lists another account's service to the principals it allows.
- An interface endpoint's ENIs (one per subnet) get addresses inside their subnet, as AWS assigns
  them; moto draws them from 10.0.0.0/8 regardless of the subnet.
- An interface endpoint to an AWS service is named as AWS names it (`<endpoint id>-<random>.
  <service>.<region>.vpce.amazonaws.com`, then one name per Availability Zone); lambda_runtime
  and data_plane route those names to the endpoint.
- A private DNS name must be verified: the service shows a TXT record to create
  (PrivateDnsNameConfiguration pendingVerification), and
  StartVpcEndpointServicePrivateDnsVerification ends `verified` only if the owner's Route 53 holds
  that record, else `failed`. moto reports every name as verified.
- DeleteVpcEndpointServiceConfigurations refuses a service that still has pendingAcceptance,
  pending or available connections (ExistingVpcEndpointConnections).

State changes that take time in AWS (pending -> available, verification) are scheduled with the
sandbox's pace and applied when the resource is next read, so no thread is needed.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import re
import secrets
import threading
import time
import uuid
from typing import Any, Callable, Iterable

# Seconds a transition takes; replaced from the context's pace at install time.
_PACE = {"default": 0.02}

# Endpoint states AWS counts as a live connection to the service.
LIVE_CONNECTION_STATES = ("pendingAcceptance", "pending", "available")
_AWS_SERVICE_NAME = re.compile(r"^com\.amazonaws\.(?!vpce\.)[\w-]+\.[\w.-]+$")

# The principal ARNs of the request being handled (set by the CreateVpcEndpoint response), so that
# a service allowing one user or role admits exactly that principal. Calls that do not come
# through the API (CloudFormation) are judged by their account alone.
_request = threading.local()


# --- finding services and connections -----------------------------------------------------------


def _ec2_backends_in(region: str) -> Iterable[tuple[str, Any]]:
    from moto.ec2.models import ec2_backends

    for account_id, by_region in list(ec2_backends.items()):
        # Only regions already in use: reading one must not create a backend.
        if region in by_region.keys():
            yield account_id, by_region[region]


def find_endpoint_service(service_name: str, region: str) -> tuple[str, Any] | None:
    """(owner account, VPCServiceConfiguration) of the endpoint service named `service_name`."""
    for account_id, backend in _ec2_backends_in(region):
        for config in list(backend.configurations.values()):
            if config.service_name == service_name:
                return account_id, config
    return None


def is_aws_service_name(service_name: str) -> bool:
    return bool(_AWS_SERVICE_NAME.match(service_name or ""))


def principal_allowed(config: Any, account_id: str, principal_arns: Iterable[str] = ()) -> bool:
    """Does the service's allow-list admit this caller? Accounts are named by their root ARN."""
    arns = set(principal_arns)
    for principal in config.principals:
        if principal == "*" or principal in arns:
            return True
        if re.fullmatch(rf"arn:aws[\w-]*:iam::{account_id}:root", principal):
            return True
    return False


def service_connections(config: Any, live_only: bool = False) -> list[Any]:
    """Every endpoint (in any account) connected to the service, oldest first."""
    region = config.ec2_backend.region_name
    found = []
    for _account, backend in _ec2_backends_in(region):
        for endpoint in list(backend.vpc_end_points.values()):
            if endpoint.service_name != config.service_name or endpoint.state == "deleted":
                continue
            if live_only and endpoint.state not in LIVE_CONNECTION_STATES:
                continue
            found.append(endpoint)
    return sorted(found, key=lambda e: e.creation_timestamp)


# --- endpoint state that changes over time ------------------------------------------------------


def _get_endpoint_state(self: Any) -> str:
    pending = self.__dict__.get("_xw_next_state")
    if pending and time.monotonic() >= pending[0]:
        self.__dict__["_xw_state"] = pending[1]
        self.__dict__.pop("_xw_next_state", None)
    return self.__dict__.get("_xw_state", "available")


def _set_endpoint_state(self: Any, value: str) -> None:
    self.__dict__["_xw_state"] = value
    self.__dict__.pop("_xw_next_state", None)


def set_endpoint_state_later(endpoint: Any, now: str, then: str, after: float | None = None) -> None:
    """Show `now` at once and `then` once `after` seconds (default: the pace) have passed."""
    endpoint.state = now
    delay = _PACE["default"] if after is None else after
    endpoint.__dict__["_xw_next_state"] = (time.monotonic() + delay, then)


# --- CreateVpcEndpoint --------------------------------------------------------------------------


def _free_address(backend: Any, subnet: Any, taken_by: str) -> str:
    network = ipaddress.ip_network(subnet.cidr_block)
    used = {
        eni.private_ip_address
        for eni in list(backend.enis.values())
        if eni.id != taken_by and getattr(eni.subnet, "id", None) == subnet.id
    }
    # AWS reserves the first four addresses and the last one of every subnet.
    first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1
    for _ in range(64):
        candidate = str(ipaddress.ip_address(first + secrets.randbelow(last - first + 1)))
        if candidate not in used:
            return candidate
    for value in range(first, last + 1):
        if str(ipaddress.ip_address(value)) not in used:
            return str(ipaddress.ip_address(value))
    from moto.ec2.exceptions import EC2ClientError

    raise EC2ClientError("InsufficientFreeAddressesInSubnet",
                         f"There are not enough free addresses in subnet '{subnet.id}'")


def place_endpoint_enis_in_their_subnets(backend: Any, endpoint: Any) -> None:
    """Give each of the endpoint's ENIs an address of its subnet and the endpoint's identity."""
    from moto.ec2.utils import generate_dns_from_ip

    for eni_id in endpoint.network_interface_ids:
        eni = backend.enis.get(eni_id)
        if eni is None:
            continue
        address = _free_address(backend, eni.subnet, eni.id)
        eni.private_ip_address = address
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
        vpc = backend.get_vpc(eni.subnet.vpc_id)
        if vpc is not None and getattr(vpc, "enable_dns_hostnames", False):
            eni.private_dns_name = generate_dns_from_ip(address)
            eni.private_ip_addresses[0]["PrivateDnsName"] = eni.private_dns_name
        eni.description = f"VPC Endpoint Interface {endpoint.id}"
        eni.interface_type = "vpc_endpoint"
        eni.requester_managed = True
        for group_id in endpoint.security_group_ids:
            group = backend.get_security_group_from_id(group_id)
            if group is not None and group not in eni._group_set:
                eni._group_set.append(group)


def _endpoint_dns_entries(endpoint: Any, service_id: str, region: str) -> list[dict[str, str]]:
    # AWS names interface endpoints <endpoint id>-<random>.<service id>.<region>.vpce.amazonaws.com
    suffix = secrets.token_hex(4)
    return [{"dns_name": f"{endpoint.id}-{suffix}.{service_id}.{region}.vpce.amazonaws.com",
             "hosted_zone_id": "Z7HUB22UULQXV"}]


def aws_service_dns_entries(backend: Any, endpoint: Any, service_name: str,
                            region: str) -> list[dict[str, str]]:
    """The names AWS gives an interface endpoint to an AWS service: the regional one first
    (`vpce-0123…-ab12cd34.execute-api.us-east-1.vpce.amazonaws.com`), then one per Availability
    Zone (`…-ab12cd34-us-east-1a.execute-api…`); each resolves, in public DNS, to the endpoint's
    ENI addresses. moto names them `<endpoint id>-<random>.com.amazonaws.<region>.<service>`."""
    service = service_name.split(f"com.amazonaws.{region}.", 1)[-1]
    label = f"{endpoint.id}-{secrets.token_hex(4)}"
    zone = "Z7HUB22UULQXV"
    entries = [{"dns_name": f"{label}.{service}.{region}.vpce.amazonaws.com", "hosted_zone_id": zone}]
    zones: list[str] = []
    for subnet_id in endpoint.subnet_ids or []:
        try:
            az = backend.get_subnet(subnet_id).availability_zone
        except Exception:  # noqa: BLE001 - a subnet moto no longer holds names no zone
            continue
        if az not in zones:
            zones.append(az)
    entries += [{"dns_name": f"{label}-{az}.{service}.{region}.vpce.amazonaws.com",
                 "hosted_zone_id": zone} for az in zones]
    return entries


def _create_vpc_endpoint_checks_the_endpoint_service(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def create_vpc_endpoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        service_name = bound.arguments.get("service_name") or ""
        endpoint_type = (bound.arguments.get("endpoint_type") or "Gateway").lower()
        if endpoint_type not in ("interface", "gatewayloadbalancer"):
            return original(self, *args, **kwargs)

        from moto.ec2.exceptions import InvalidServiceName

        service = None
        if not is_aws_service_name(service_name):
            found = find_endpoint_service(service_name, self.region_name)
            principal_arns = getattr(_request, "principal_arns", ())
            if found is None or not principal_allowed(found[1], self.account_id, principal_arns):
                # AWS does not reveal a service the caller may not use.
                raise InvalidServiceName(service_name)
            service = found[1]

        endpoint = original(self, *args, **kwargs)
        if endpoint_type == "interface":
            place_endpoint_enis_in_their_subnets(self, endpoint)
            if service is None:
                endpoint.dns_entries = aws_service_dns_entries(self, endpoint, service_name,
                                                               self.region_name)
        if service is not None:
            endpoint.xw_service_id = service.id
            endpoint.xw_connection_id = f"vpce-con-{uuid.uuid4().hex[:17]}"
            endpoint.dns_entries = _endpoint_dns_entries(endpoint, service.id, self.region_name)
            if _truthy(service.acceptance_required):
                endpoint.state = "pendingAcceptance"
                return endpoint
        set_endpoint_state_later(endpoint, "pending", "available")
        return endpoint

    create_vpc_endpoint.__xwizard_patch__ = True  # type: ignore[attr-defined]
    return create_vpc_endpoint


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# --- DescribeVpcEndpointServices ----------------------------------------------------------------


def _service_detail_as_aws_lists_it(original: Callable[[Any], dict[str, Any]]) -> Any:
    """ServiceDetail with the fields AWS adds: verification state, region, tags, a real bool."""

    @functools.wraps(original)
    def to_dict(self: Any) -> dict[str, Any]:
        detail = original(self)
        detail["AcceptanceRequired"] = _truthy(self.acceptance_required)
        detail["ServiceRegion"] = self.ec2_backend.region_name
        detail["SupportedIpAddressTypes"] = ["ipv4"]
        detail["Tags"] = list(self.tag_list) if hasattr(self, "tag_list") else []
        if self.private_dns_name:
            detail["PrivateDnsNameVerificationState"] = private_dns_state(self)
        return detail

    return to_dict


def _services_shared_with(original: Callable[[str, str], list[dict[str, Any]]]) -> Any:
    @functools.wraps(original)
    def collect(account_id: str, region: str) -> list[dict[str, Any]]:
        services = list(original(account_id, region))
        principal_arns = getattr(_request, "principal_arns", ())
        for owner, backend in _ec2_backends_in(region):
            if owner == account_id:
                continue  # the owner's own services are added by moto itself
            for config in list(backend.configurations.values()):
                if principal_allowed(config, account_id, principal_arns):
                    services.append(config.to_dict())
        return services

    collect.__xwizard_patch__ = True  # type: ignore[attr-defined]
    return staticmethod(collect)


# --- private DNS name verification --------------------------------------------------------------


def _dns_record(config: Any) -> dict[str, Any]:
    """The verification record for the service's current private DNS name (made on first use)."""
    record = config.__dict__.get("_xw_private_dns")
    if record is None or record["for"] != config.private_dns_name:
        record = {
            "for": config.private_dns_name,
            "name": "_" + secrets.token_hex(10),
            "value": "vpce:" + secrets.token_urlsafe(15),
            "state": "pendingVerification",
            "check_at": None,
        }
        config.__dict__["_xw_private_dns"] = record
    return record


def _txt_record_present(owner: str, domain: str, name: str, value: str) -> bool:
    from moto.route53.models import route53_backends

    domain = domain.lower().rstrip(".")
    if domain.startswith("*."):
        domain = domain[2:]
    labels = domain.split(".")
    # The record may sit under the name itself or under any parent domain (verifying a parent
    # verifies its subdomains).
    wanted = {f"{name}.{'.'.join(labels[i:])}".lower() for i in range(len(labels) - 1)}
    if "aws" not in route53_backends[owner].keys():
        return False
    for zone in list(route53_backends[owner]["aws"].zones.values()):
        if zone.private_zone:
            continue  # AWS resolves the record through public DNS
        for rrset in list(zone.rrsets):
            if rrset.type != "TXT" or rrset.name.lower().rstrip(".") not in wanted:
                continue
            for record in rrset.records:
                text = record if isinstance(record, str) else record.get("Value", "")
                if text.strip().strip('"') == value:
                    return True
    return False


def private_dns_state(config: Any) -> str:
    record = _dns_record(config)
    if record["check_at"] is not None and time.monotonic() >= record["check_at"]:
        owner = config.ec2_backend.account_id
        present = _txt_record_present(owner, config.private_dns_name, record["name"], record["value"])
        record["state"] = "verified" if present else "failed"
        record["check_at"] = None
    return record["state"]


def _private_dns_name_configuration(self: Any) -> dict[str, str]:
    if not self.private_dns_name:
        return {}
    record = _dns_record(self)
    return {"State": private_dns_state(self), "Type": "TXT",
            "Value": record["value"], "Name": record["name"]}


def start_private_dns_verification(config: Any) -> None:
    record = _dns_record(config)
    record["state"] = "pendingVerification"
    record["check_at"] = time.monotonic() + _PACE["default"]


# --- new EC2 actions ----------------------------------------------------------------------------


def _own_service(response: Any, service_id: str) -> Any:
    from moto.ec2.exceptions import UnknownVpcEndpointService

    config = response.ec2_backend.configurations.get(service_id)
    if config is None:
        raise UnknownVpcEndpointService(service_id)
    return config


def _connection(config: Any, endpoint: Any) -> dict[str, Any]:
    return {
        "ServiceId": config.id,
        "VpcEndpointId": endpoint.id,
        "VpcEndpointOwner": endpoint.ec2_backend.account_id,
        "VpcEndpointState": endpoint.state,
        "CreationTimestamp": endpoint.creation_timestamp,
        "DnsEntries": [{"DnsName": d.get("dns_name"), "HostedZoneId": d.get("hosted_zone_id")}
                       for d in endpoint.dns_entries or []],
        "NetworkLoadBalancerArns": list(config.network_load_balancer_arns),
        "GatewayLoadBalancerArns": list(config.gateway_load_balancer_arns),
        "IpAddressType": "ipv4",
        "VpcEndpointConnectionId": getattr(endpoint, "xw_connection_id", ""),
        "VpcEndpointRegion": endpoint.ec2_backend.region_name,
        "Tags": [],
    }


_CONNECTION_FILTERS = {
    "service-id": "ServiceId",
    "vpc-endpoint-id": "VpcEndpointId",
    "vpc-endpoint-owner": "VpcEndpointOwner",
    "vpc-endpoint-state": "VpcEndpointState",
    "vpc-endpoint-region": "VpcEndpointRegion",
    "ip-address-type": "IpAddressType",
}


def describe_vpc_endpoint_connections(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidFilter

    filters = self._filters_from_querystring()
    for name in filters:
        if name not in _CONNECTION_FILTERS:
            raise InvalidFilter(name)
    rows = [
        _connection(config, endpoint)
        for config in list(self.ec2_backend.configurations.values())
        for endpoint in service_connections(config)
    ]
    for name, values in filters.items():
        rows = [r for r in rows if str(r[_CONNECTION_FILTERS[name]]) in values]
    return ActionResult({"VpcEndpointConnections": rows})


def _answer_connections(self: Any, accept: bool) -> Any:
    from moto.core.responses import ActionResult

    config = _own_service(self, self._get_param("ServiceId"))
    by_id = {e.id: e for e in service_connections(config)}
    # Accept: a pending request, or one rejected earlier. Reject: a request or a live connection.
    answerable = ("pendingAcceptance", "rejected") if accept else ("pendingAcceptance", "pending", "available")
    unsuccessful = []
    for endpoint_id in self._get_param("VpcEndpointIds", []):
        endpoint = by_id.get(endpoint_id)
        if endpoint is None:
            unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                "Code": "InvalidVpcEndpointId.NotFound",
                "Message": f"The Vpc Endpoint Id '{endpoint_id}' does not exist"}})
        elif endpoint.state not in answerable:
            unsuccessful.append({"ResourceId": endpoint_id, "Error": {
                "Code": "IncorrectState",
                "Message": f"The Vpc Endpoint '{endpoint_id}' is in state '{endpoint.state}' "
                           f"and cannot be {'accepted' if accept else 'rejected'}"}})
        elif accept:
            set_endpoint_state_later(endpoint, "pending", "available")
        else:
            endpoint.state = "rejected"
    return ActionResult({"Unsuccessful": unsuccessful})


def accept_vpc_endpoint_connections(self: Any) -> Any:
    return _answer_connections(self, accept=True)


def reject_vpc_endpoint_connections(self: Any) -> Any:
    return _answer_connections(self, accept=False)


def start_vpc_endpoint_service_private_dns_verification(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError

    service_id = self._get_param("ServiceId")
    config = _own_service(self, service_id)
    if not config.private_dns_name:
        raise EC2ClientError("InvalidParameter",
                             f"The endpoint service '{service_id}' has no private DNS name to verify.")
    start_private_dns_verification(config)
    return ActionResult({"ReturnValue": True})


def _delete_refuses_services_in_use(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(original)
    def delete_vpc_endpoint_service_configurations(self: Any) -> Any:
        from moto.core.responses import ActionResult

        requested = self._get_param("ServiceIds", [])
        busy = [sid for sid in requested
                if sid in self.ec2_backend.configurations
                and service_connections(self.ec2_backend.configurations[sid], live_only=True)]
        free = [sid for sid in requested if sid not in busy]
        missing = self.ec2_backend.delete_vpc_endpoint_service_configurations(free) if free else []
        unsuccessful = [{"ResourceId": sid, "Error": {
            "Code": "ExistingVpcEndpointConnections",
            "Message": "Service has existing active VPC Endpoint connections!"}} for sid in busy]
        unsuccessful += [{"ResourceId": sid, "Error": {
            "Code": "InvalidVpcEndpointService.NotFound",
            "Message": f"The VpcEndpointService Id '{sid}' does not exist"}} for sid in missing]
        return ActionResult({"Unsuccessful": unsuccessful})

    delete_vpc_endpoint_service_configurations.__xwizard_patch__ = True  # type: ignore[attr-defined]
    return delete_vpc_endpoint_service_configurations


def _remembers_the_caller(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a response handler so the backend can see which principal is asking."""

    @functools.wraps(original)
    def handler(self: Any) -> Any:
        from secrets_cross_account import caller_from_access_key

        caller = caller_from_access_key(self.get_access_key(), self.region)
        _request.principal_arns = tuple(caller.principal_arns)
        try:
            return original(self)
        finally:
            _request.principal_arns = ()

    handler.__xwizard_patch__ = True  # type: ignore[attr-defined]
    return handler


def _remove_private_dns_name(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """ModifyVpcEndpointServiceConfiguration's RemovePrivateDnsName, which moto ignores."""

    @functools.wraps(original)
    def handler(self: Any) -> Any:
        result = original(self)
        if _truthy(self._get_param("RemovePrivateDnsName")):
            config = _own_service(self, self._get_param("ServiceId"))
            config.private_dns_name = None
        return result

    handler.__xwizard_patch__ = True  # type: ignore[attr-defined]
    return handler


def install(ctx: Any) -> None:
    from moto.ec2.models.vpc_service_configuration import VPCServiceConfiguration
    from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
    from moto.ec2.responses import EC2Response

    _PACE["default"] = float(ctx.pace.get("default", _PACE["default"]))
    if getattr(VPCBackend.create_vpc_endpoint, "__xwizard_patch__", False):
        return  # already installed in this process

    VPCEndPoint.state = property(_get_endpoint_state, _set_endpoint_state)
    VPCBackend.create_vpc_endpoint = _create_vpc_endpoint_checks_the_endpoint_service(
        VPCBackend.create_vpc_endpoint)
    VPCBackend._collect_default_endpoint_services = _services_shared_with(
        VPCBackend._collect_default_endpoint_services)
    VPCServiceConfiguration.private_dns_name_configuration = property(_private_dns_name_configuration)
    VPCServiceConfiguration.to_dict = _service_detail_as_aws_lists_it(VPCServiceConfiguration.to_dict)

    EC2Response.create_vpc_endpoint = _remembers_the_caller(EC2Response.create_vpc_endpoint)
    EC2Response.describe_vpc_endpoint_services = _remembers_the_caller(
        EC2Response.describe_vpc_endpoint_services)
    EC2Response.modify_vpc_endpoint_service_configuration = _remove_private_dns_name(
        EC2Response.modify_vpc_endpoint_service_configuration)
    EC2Response.delete_vpc_endpoint_service_configurations = _delete_refuses_services_in_use(
        EC2Response.delete_vpc_endpoint_service_configurations)
    EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
    EC2Response.accept_vpc_endpoint_connections = accept_vpc_endpoint_connections
    EC2Response.reject_vpc_endpoint_connections = reject_vpc_endpoint_connections
    EC2Response.start_vpc_endpoint_service_private_dns_verification = (
        start_vpc_endpoint_service_private_dns_verification)
