"""CloudFormation resource types the xwizard templates use that moto 5.2.5 skips or gets wrong.

moto's stack engine only knows the types returned by
`moto.cloudformation.parsing.get_model_map()`, which is built (and cached) from the *direct*
subclasses of `CloudFormationModel`. Every class below is such a direct subclass, defined when
this module is imported, and `install()` clears the cached maps so a stack parsed later sees them.

Each class is a thin handle on a resource that lives in moto's own service backend (EC2, ELBv2,
API Gateway, Secrets Manager, ACM, S3), so the service APIs see what a stack made. Only the
ELBv2 trust store has no moto backend; it is kept here (see `trust_store()`; DescribeTrustStores
is served from it). Ref and Fn::GetAtt return what the AWS CloudFormation reference documents for
each type. Other modules add types of their own concern the same way (security_group_rules,
apigateway_private_domains).

The second half of the module mends models moto already has:
- an ELBv2 load balancer honours `Type` (a network load balancer takes TCP listeners) and its
  ARN says `/net/` for a network load balancer, as AWS's does, through the API as well;
- target groups register `Targets`; listeners record `MutualAuthentication`;
- REST APIs keep `Policy`, `EndpointConfiguration` and tags; methods keep their authorizer and
  VPC-link integration and accept MOCK integrations without an HTTP method; a deployment's Ref
  is its id;
- interface endpoints keep their policy as JSON;
- a subnet route table association really associates the subnet; its Ref is its rtbassoc- id;
- KMS keys take CloudFormation's Key/Value tags;
- S3 buckets take versioning, public access block, ownership controls and lifecycle rules, and
  a stack deletion refuses a bucket that still holds objects, versions or delete markers;
- EC2 instances launch in their template's network interfaces and security groups, with their
  metadata options and instance profile, the root volume sized from the AMI's snapshot;
- ACM certificates requested by moto are issued only once their DNS validation record is in
  public DNS (moto issued every pending certificate after 60 seconds);
- a network load balancer shows EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic;
- VPCs, subnets, route tables, routes, subnet associations, gateway attachments, internet
  gateways, NAT gateways (with their network interface), Elastic IPs, flow logs, VPC endpoints,
  hosted zones, target groups and listeners and REST APIs are removed when their stack is deleted.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.core.base_backend import InstanceTrackerMeta
from moto.core.common_models import CloudFormationModel
from moto.moto_api._internal import mock_random

# --- common ground ---------------------------------------------------------------------------

_lock = threading.RLock()
# (type, account, region, physical id) -> live handle. The stack keeps the handle too, but a
# deletion that arrives through `delete_from_cloudformation_json` only carries the physical id
# and the template's *unresolved* properties, so the handle is looked up here.
_live: dict[tuple[str, str, str, str], "_Handle"] = {}
# The sandbox pace (emulator.PACES), for the few handlers that wait on something.
_PACE: dict[str, float] = {"default": 0.02, "slow": 0.05}
# (account, region) -> {arn: TrustStore}: the one resource moto has no backend for.
_trust_stores: dict[tuple[str, str], dict[str, "TrustStore"]] = {}


class _SandboxModelMeta(InstanceTrackerMeta):
    """moto files every model under the service its module names (`moto.<service>.models`).
    Ours live outside moto's package, so they are filed under this module's name instead."""

    def __new__(meta, name: str, bases: Any, dct: dict[str, Any]) -> type:
        dct = {**dct, "__module__": f"sandbox.{__name__}"}
        return super().__new__(meta, name, bases, dct)


def _missing(logical_id: str, name: str) -> ValidationError:
    # The wording CloudFormation uses when a required property is absent.
    return ValidationError(
        message=f"Properties validation failed for resource {logical_id} with message: "
        f"#: required key [{name}] not found"
    )


def _invalid(logical_id: str, detail: str) -> ValidationError:
    return ValidationError(
        message=f"Properties validation failed for resource {logical_id} with message: {detail}"
    )


def _tags_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


class _Handle(metaclass=_SandboxModelMeta):
    """What every model here shares. Subclasses set TYPE, ATTRIBUTES, maybe NAME_PROPERTY,
    and implement `_create` (a classmethod returning the handle) and `_delete`."""

    TYPE = ""
    NAME_PROPERTY = ""
    REQUIRED: tuple[str, ...] = ()
    # Fn::GetAtt name -> instance attribute holding its value.
    ATTRIBUTES: dict[str, str] = {}

    def __init__(self, account_id: str, region_name: str, physical_id: str):
        self.account_id = account_id
        self.region_name = region_name
        self.physical_id = physical_id

    # -- the CloudFormationModel protocol --
    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.ATTRIBUTES[attribute_name])

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "_Handle":
        props = cloudformation_json.get("Properties") or {}
        logical_id = kwargs.get("LogicalId", resource_name)
        for name in cls.REQUIRED:
            if props.get(name) in (None, "", []):
                raise _missing(logical_id, name)
        handle = cls._create(resource_name, props, account_id, region_name, logical_id)
        with _lock:
            _live[(cls.TYPE, account_id, region_name, handle.physical_id)] = handle
        return handle

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: "_Handle",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "_Handle":
        props = cloudformation_json.get("Properties") or {}
        if original_resource._update(props):
            return original_resource
        # No in-place update for this change: replace, as CloudFormation does.
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        with _lock:
            handle = _live.get((cls.TYPE, account_id, region_name, resource_name))
        # Unknown here means already gone: CloudFormation treats that as deleted.
        if handle is not None:
            handle.delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Called by moto's stack engine first; removes the backing resource."""
        self._delete()
        with _lock:
            _live.pop((self.TYPE, account_id, region_name, self.physical_id), None)

    # -- what subclasses provide --
    @classmethod
    def _create(
        cls, name: str, props: dict[str, Any], account_id: str, region_name: str, logical_id: str
    ) -> "_Handle":
        raise NotImplementedError

    def _update(self, props: dict[str, Any]) -> bool:
        """Apply an update in place; False asks for a replacement."""
        return False

    def _delete(self) -> None:
        raise NotImplementedError


def _ec2(account_id: str, region_name: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region_name]


def _elbv2(account_id: str, region_name: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account_id][region_name]


def _apigw(account_id: str, region_name: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region_name]


def _secrets(account_id: str, region_name: str) -> Any:
    from moto.secretsmanager.models import secretsmanager_backends

    return secretsmanager_backends[account_id][region_name]


def _s3(account_id: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["global"]


def _apigw_bad_request(message: str) -> Exception:
    from moto.apigateway.exceptions import BadRequestException

    return BadRequestException(message)


# --- EC2: PrivateLink endpoint service -------------------------------------------------------


class VpcEndpointService(_Handle, CloudFormationModel):
    """AWS::EC2::VPCEndpointService. Ref = service id (vpce-svc-…); its ServiceName is
    `com.amazonaws.vpce.<region>.<id>`, set by moto's endpoint-service backend. With a
    PrivateDnsName, Fn::GetAtt PrivateDnsNameConfiguration.Name / .Value / .Type / .State give
    the domain-ownership record EC2 asks for (privatelink.py keeps it and its verification);
    the name starts pendingVerification, as AWS's does."""

    TYPE = "AWS::EC2::VPCEndpointService"
    ATTRIBUTES = {
        "ServiceId": "physical_id",
        "PrivateDnsNameConfiguration.Name": "_dns_record_name",
        "PrivateDnsNameConfiguration.Value": "_dns_record_value",
        "PrivateDnsNameConfiguration.Type": "_dns_record_type",
        "PrivateDnsNameConfiguration.State": "_dns_record_state",
    }

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        nlbs = props.get("NetworkLoadBalancerArns") or []
        gwlbs = props.get("GatewayLoadBalancerArns") or []
        if not nlbs and not gwlbs:
            raise _invalid(
                logical_id,
                "#: one of NetworkLoadBalancerArns or GatewayLoadBalancerArns is required",
            )
        elbv2 = _elbv2(account_id, region_name)
        for arn in nlbs:
            lb = elbv2.load_balancers.get(arn)
            if lb is None:
                raise _invalid(logical_id, f"Load balancer {arn} not found")
            if lb.type != "network":
                raise _invalid(logical_id, f"Load balancer {arn} is not a network load balancer")
        config = _ec2(account_id, region_name).create_vpc_endpoint_service_configuration(
            lb_arns=nlbs + gwlbs,
            acceptance_required=_bool(props.get("AcceptanceRequired", False)),
            private_dns_name=props.get("PrivateDnsName") or None,
            tags=props.get("Tags") or [],
            supported_regions=[region_name],
        )
        return cls(account_id, region_name, config.id)

    @property
    def service_name(self) -> str:
        return f"com.amazonaws.vpce.{self.region_name}.{self.physical_id}"

    def _config(self) -> Any:
        return _ec2(self.account_id, self.region_name).configurations.get(self.physical_id)

    def _dns_record(self, key: str) -> str:
        config = self._config()
        record = config.private_dns_name_configuration if config is not None else {}
        if not record:
            # AWS has no such attribute value for a service without a private DNS name.
            raise UnformattedGetAttTemplateException()
        return record[key]

    _dns_record_name = property(lambda self: self._dns_record("Name"))
    _dns_record_value = property(lambda self: self._dns_record("Value"))
    _dns_record_type = property(lambda self: self._dns_record("Type"))
    _dns_record_state = property(lambda self: self._dns_record("State"))

    def _update(self, props):
        config = self._config()
        if config is None:
            return False
        if set(props.get("NetworkLoadBalancerArns") or []) != set(
            config.network_load_balancer_arns
        ):
            return False
        config.acceptance_required = _bool(props.get("AcceptanceRequired", False))
        # A new name gets a new verification record (privatelink.py) and starts unverified.
        config.private_dns_name = props.get("PrivateDnsName") or None
        return True

    def _delete(self):
        _ec2(self.account_id, self.region_name).delete_vpc_endpoint_service_configurations(
            [self.physical_id]
        )


class VpcEndpointServicePermissions(_Handle, CloudFormationModel):
    """AWS::EC2::VPCEndpointServicePermissions: the principals allowed to connect. AWS documents
    no Ref value; the physical id is the service id, as AWS reports it."""

    TYPE = "AWS::EC2::VPCEndpointServicePermissions"
    REQUIRED = ("ServiceId",)

    def __init__(self, account_id, region_name, service_id, principals):
        super().__init__(account_id, region_name, service_id)
        self.principals = list(principals)

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        principals = props.get("AllowedPrincipals") or []
        _ec2(account_id, region_name).modify_vpc_endpoint_service_permissions(
            props["ServiceId"], add_principals=list(principals), remove_principals=[]
        )
        return cls(account_id, region_name, props["ServiceId"], principals)

    def _update(self, props):
        if props.get("ServiceId") != self.physical_id:
            return False
        new = list(props.get("AllowedPrincipals") or [])
        _ec2(self.account_id, self.region_name).modify_vpc_endpoint_service_permissions(
            self.physical_id,
            add_principals=[p for p in new if p not in self.principals],
            remove_principals=[p for p in self.principals if p not in new],
        )
        self.principals = new
        return True

    def _delete(self):
        ec2 = _ec2(self.account_id, self.region_name)
        if self.physical_id in ec2.configurations:
            ec2.modify_vpc_endpoint_service_permissions(
                self.physical_id, add_principals=[], remove_principals=self.principals
            )


def _bool(value: Any) -> bool:
    # Template values arrive as booleans or as the strings "true"/"false".
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


# --- API Gateway -----------------------------------------------------------------------------


class ApiGatewayVpcLink(_Handle, CloudFormationModel):
    """AWS::ApiGateway::VpcLink (REST APIs): a link to network load balancers. Ref = link id."""

    TYPE = "AWS::ApiGateway::VpcLink"
    REQUIRED = ("Name", "TargetArns")
    ATTRIBUTES = {"VpcLinkId": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        elbv2 = _elbv2(account_id, region_name)
        for arn in props["TargetArns"]:
            lb = elbv2.load_balancers.get(arn)
            # A REST API VPC link can only target network load balancers of this account.
            if lb is None or lb.type != "network":
                raise _apigw_bad_request(
                    f"Invalid target ARN {arn}: must be a network load balancer in this account"
                )
        link = _apigw(account_id, region_name).create_vpc_link(
            name=props["Name"],
            description=props.get("Description", ""),
            target_arns=list(props["TargetArns"]),
            tags=_tags_dict(props.get("Tags")),
        )
        return cls(account_id, region_name, link.id)

    def _update(self, props):
        link = _apigw(self.account_id, self.region_name).vpc_links.get(self.physical_id)
        if link is None or list(props.get("TargetArns") or []) != link.target_arns:
            return False
        link.name = props.get("Name", link.name)
        link.description = props.get("Description", "")
        return True

    def _delete(self):
        _apigw(self.account_id, self.region_name).delete_vpc_link(self.physical_id)


class ApiGatewayAuthorizer(_Handle, CloudFormationModel):
    """AWS::ApiGateway::Authorizer (TOKEN, REQUEST, COGNITO_USER_POOLS). Ref = authorizer id."""

    TYPE = "AWS::ApiGateway::Authorizer"
    REQUIRED = ("RestApiId", "Type", "Name")
    ATTRIBUTES = {"AuthorizerId": "physical_id"}

    def __init__(self, account_id, region_name, authorizer_id, rest_api_id):
        super().__init__(account_id, region_name, authorizer_id)
        self.rest_api_id = rest_api_id

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        kind = props["Type"]
        if kind not in ("TOKEN", "REQUEST", "COGNITO_USER_POOLS"):
            raise _apigw_bad_request(
                f"Invalid authorizer type '{kind}': must be TOKEN, REQUEST or COGNITO_USER_POOLS"
            )
        if kind in ("TOKEN", "REQUEST") and not props.get("AuthorizerUri"):
            raise _apigw_bad_request("Authorizer URI is required for authorizer type " + kind)
        if kind == "TOKEN" and not props.get("IdentitySource"):
            raise _apigw_bad_request("Identity source is required for TOKEN authorizers")
        if kind == "COGNITO_USER_POOLS" and not props.get("ProviderARNs"):
            raise _apigw_bad_request("ProviderARNs are required for COGNITO_USER_POOLS")
        ttl = props.get("AuthorizerResultTtlInSeconds", 300)
        authorizer = _apigw(account_id, region_name).create_authorizer(
            restapi_id=props["RestApiId"],
            name=props["Name"],
            authorizer_type=kind,
            provider_arns=props.get("ProviderARNs"),
            auth_type=props.get("AuthType"),
            authorizer_uri=props.get("AuthorizerUri"),
            authorizer_credentials=props.get("AuthorizerCredentials"),
            identity_source=props.get("IdentitySource"),
            identiy_validation_expression=props.get("IdentityValidationExpression"),
            authorizer_result_ttl=int(ttl),
        )
        return cls(account_id, region_name, authorizer.id, props["RestApiId"])

    def _delete(self):
        api = _apigw(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api is not None:
            api.authorizers.pop(self.physical_id, None)


class ApiGatewayStage(_Handle, CloudFormationModel):
    """AWS::ApiGateway::Stage. Ref = stage name."""

    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"
    REQUIRED = ("RestApiId",)

    def __init__(self, account_id, region_name, stage_name, rest_api_id):
        super().__init__(account_id, region_name, stage_name)
        self.rest_api_id = rest_api_id

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        backend = _apigw(account_id, region_name)
        stage = backend.create_stage(
            props["RestApiId"],
            props.get("StageName") or name,
            props.get("DeploymentId"),
            variables=props.get("Variables") or {},
            description=props.get("Description", ""),
            cacheClusterEnabled=props.get("CacheClusterEnabled"),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=_tags_dict(props.get("Tags")) or None,
            tracing_enabled=_bool(props.get("TracingEnabled", False)),
        )
        handle = cls(account_id, region_name, stage.name, props["RestApiId"])
        handle._apply_settings(stage, props)
        return handle

    @staticmethod
    def _apply_settings(stage: Any, props: dict[str, Any]) -> None:
        stage.method_settings = {}
        for setting in props.get("MethodSettings") or []:
            # "/widgets" + "GET" -> "~1widgets/GET", "/*" + "*" -> "*/*", as the API keys them.
            path = setting.get("ResourcePath", "/*")
            path = "*" if path == "/*" else path.replace("/", "~1")
            key = f"{path}/{setting.get('HttpMethod', '*')}"
            values = stage._get_default_method_settings()
            for cfn_name, api_name in (
                ("MetricsEnabled", "metricsEnabled"),
                ("LoggingLevel", "loggingLevel"),
                ("DataTraceEnabled", "dataTraceEnabled"),
                ("ThrottlingBurstLimit", "throttlingBurstLimit"),
                ("ThrottlingRateLimit", "throttlingRateLimit"),
                ("CachingEnabled", "cachingEnabled"),
                ("CacheTtlInSeconds", "cacheTtlInSeconds"),
                ("CacheDataEncrypted", "cacheDataEncrypted"),
            ):
                if cfn_name in setting:
                    values[api_name] = setting[cfn_name]
            stage.method_settings[key] = values
        access = props.get("AccessLogSetting")
        stage.access_log_settings = (
            {"destinationArn": access.get("DestinationArn"), "format": access.get("Format")}
            if access
            else None
        )

    def _update(self, props):
        if props.get("RestApiId") != self.rest_api_id:
            return False
        if (props.get("StageName") or self.physical_id) != self.physical_id:
            return False
        stage = _apigw(self.account_id, self.region_name).get_stage(
            self.rest_api_id, self.physical_id
        )
        stage.deployment_id = props.get("DeploymentId")
        stage.description = props.get("Description", "")
        stage.variables = props.get("Variables") or {}
        stage.tracing_enabled = _bool(props.get("TracingEnabled", False))
        self._apply_settings(stage, props)
        return True

    def _delete(self):
        api = _apigw(self.account_id, self.region_name).apis.get(self.rest_api_id)
        if api is not None:
            api.stages.pop(self.physical_id, None)


class ApiGatewayAccount(_Handle, CloudFormationModel):
    """AWS::ApiGateway::Account: the region's CloudWatch role for API Gateway, kept in moto's
    account settings (GetAccount shows it). Ref = a generated id, as AWS's is."""

    TYPE = "AWS::ApiGateway::Account"
    ATTRIBUTES = {"Id": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        # "If an API Gateway resource has never been created in your AWS account, you must add
        # a dependency on another API Gateway resource" (the resource's reference): without
        # one, AWS sets the role before API Gateway has set up the account and refuses it.
        # Approximated as "no REST API exists here now", the stricter reading.
        if not _apigw(account_id, region_name).apis:
            raise _apigw_bad_request(
                f"The role ARN {props.get('CloudWatchRoleArn')} does not have required "
                "permissions set to API Gateway"
            )
        cls._set_role(props.get("CloudWatchRoleArn"), account_id, region_name)
        return cls(account_id, region_name, name)

    @staticmethod
    def _set_role(role_arn: str | None, account_id: str, region_name: str) -> None:
        import fault_injection

        # A role IAM has not yet propagated to API Gateway is refused with this very message.
        if role_arn and fault_injection.take_role_not_ready():
            raise _apigw_bad_request(
                f"The role ARN {role_arn} does not have required permissions set to API Gateway"
            )
        if role_arn:
            # AWS refuses a role it cannot find in the account.
            from moto.iam.models import iam_backends

            iam = iam_backends[account_id]["global"]
            role_name = role_arn.rsplit("/", 1)[-1]
            if f":{account_id}:" in role_arn and not any(
                r.name == role_name for r in iam.roles.values()
            ):
                raise _apigw_bad_request(
                    f"The role ARN {role_arn} does not have required permissions set to API Gateway"
                )
        _apigw(account_id, region_name).account.cloudwatch_role_arn = role_arn

    def _update(self, props):
        self._set_role(props.get("CloudWatchRoleArn"), self.account_id, self.region_name)
        return True

    def _delete(self):
        # As in AWS, the account setting outlives the stack that set it.
        pass


class ApiGatewayDomainName(_Handle, CloudFormationModel):
    """AWS::ApiGateway::DomainName for a REGIONAL or PRIVATE API. Ref = the domain name."""

    TYPE = "AWS::ApiGateway::DomainName"
    NAME_PROPERTY = "DomainName"
    REQUIRED = ("DomainName",)
    ATTRIBUTES = {
        "DistributionDomainName": "distribution_domain_name",
        "DistributionHostedZoneId": "distribution_hosted_zone_id",
        "RegionalDomainName": "regional_domain_name",
        "RegionalHostedZoneId": "regional_hosted_zone_id",
        "DomainNameArn": "domain_name_arn",
        "DomainNameId": "domain_name_id",
    }
    # Route 53 alias zone of execute-api regional endpoints in us-east-1 (other regions differ).
    REGIONAL_ZONE = {"us-east-1": "Z1UJRXOUMOOFQ8"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        endpoint = props.get("EndpointConfiguration") or {"Types": ["EDGE"]}
        types = endpoint.get("Types") or ["EDGE"]
        if "EDGE" not in types and not props.get("RegionalCertificateArn") and not props.get(
            "CertificateArn"
        ):
            raise _apigw_bad_request(
                "A certificate is required for a REGIONAL or PRIVATE custom domain name"
            )
        domain = _apigw(account_id, region_name).create_domain_name(
            domain_name=props["DomainName"],
            certificate_name=None,
            tags=_tags_dict(props.get("Tags")),
            certificate_arn=props.get("CertificateArn"),
            certificate_body=None,
            certificate_private_key=None,
            certificate_chain=None,
            regional_certificate_name=None,
            regional_certificate_arn=props.get("RegionalCertificateArn")
            or (props.get("CertificateArn") if "EDGE" not in types else None),
            endpoint_configuration={"types": types},
            security_policy=props.get("SecurityPolicy", "TLS_1_2"),
        )
        handle = cls(account_id, region_name, domain.domain_name)
        handle.private = "PRIVATE" in types
        if "REGIONAL" in types:
            domain.regional_hosted_zone_id = cls.REGIONAL_ZONE.get(region_name, "Z1UJRXOUMOOFQ8")
        # A private custom domain name has an id of its own and an account-scoped ARN.
        handle.domain_name_id = mock_random.get_random_string(10, lower_case=True)
        if handle.private:
            handle.domain_name_arn = (
                f"arn:aws:apigateway:{region_name}:{account_id}:/domainnames/"
                f"{domain.domain_name}+{handle.domain_name_id}"
            )
            domain.policy = props.get("Policy")
        else:
            handle.domain_name_arn = f"arn:aws:apigateway:{region_name}::/domainnames/{domain.domain_name}"
        return handle

    def _domain(self) -> Any:
        return _apigw(self.account_id, self.region_name).domain_names[self.physical_id]

    @property
    def distribution_domain_name(self) -> str:
        return self._domain().distribution_domain_name

    @property
    def distribution_hosted_zone_id(self) -> str:
        # CloudFront's fixed alias zone.
        return "Z2FDTNDATAQYW2"

    @property
    def regional_domain_name(self) -> str:
        return self._domain().regional_domain_name

    @property
    def regional_hosted_zone_id(self) -> str:
        return self._domain().regional_hosted_zone_id

    def _delete(self):
        backend = _apigw(self.account_id, self.region_name)
        backend.domain_names.pop(self.physical_id, None)
        backend.base_path_mappings.pop(self.physical_id, None)


class ApiGatewayBasePathMapping(_Handle, CloudFormationModel):
    """AWS::ApiGateway::BasePathMapping. AWS documents no return value; the physical id names
    the domain and the base path."""

    TYPE = "AWS::ApiGateway::BasePathMapping"
    REQUIRED = ("DomainName",)

    def __init__(self, account_id, region_name, domain_name, base_path):
        super().__init__(account_id, region_name, f"{domain_name}/{base_path}")
        self.domain_name = domain_name
        self.base_path = base_path

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        if not props.get("RestApiId"):
            raise _missing(logical_id, "RestApiId")
        mapping = _apigw(account_id, region_name).create_base_path_mapping(
            props["DomainName"], props["RestApiId"], props.get("BasePath"), props.get("Stage")
        )
        return cls(account_id, region_name, props["DomainName"], mapping.base_path)

    def _delete(self):
        mappings = _apigw(self.account_id, self.region_name).base_path_mappings
        mappings.get(self.domain_name, {}).pop(self.base_path, None)


# --- Secrets Manager -------------------------------------------------------------------------


class SecretsManagerSecret(_Handle, CloudFormationModel):
    """AWS::SecretsManager::Secret, value given or generated. Ref = ARN; GetAtt Id = ARN."""

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = {"Id": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        if "SecretString" in props and "GenerateSecretString" in props:
            raise _invalid(
                logical_id, "#: only one of SecretString or GenerateSecretString may be given"
            )
        value = props.get("SecretString")
        if "GenerateSecretString" in props:
            value = _generate_secret_string(props["GenerateSecretString"], logical_id)
        backend = _secrets(account_id, region_name)
        created = json.loads(
            backend.create_secret(
                name=props.get("Name") or name,
                secret_string=value,
                secret_binary=None,
                description=props.get("Description"),
                tags=props.get("Tags") or None,
                kms_key_id=props.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=props.get("ReplicaRegions") or [],
                force_overwrite=False,
            )
        )
        return cls(account_id, region_name, created["ARN"])

    def _update(self, props):
        backend = _secrets(self.account_id, self.region_name)
        secret = backend.secrets.get(self.physical_id)
        if secret is None or (props.get("Name") and props["Name"] != secret.name):
            return False
        secret.update(props.get("Description"), props.get("Tags") or None, props.get("KmsKeyId"))
        if "SecretString" in props and props["SecretString"] != secret.secret_string:
            backend.put_secret_value(
                self.physical_id, props["SecretString"], None, None, ["AWSCURRENT"]
            )
        return True

    def _delete(self):
        backend = _secrets(self.account_id, self.region_name)
        if backend.secrets.get(self.physical_id) is not None:
            # CloudFormation deletes a secret at once, without a recovery window, so that a
            # stack made again can reuse the name.
            backend.delete_secret(
                self.physical_id, recovery_window_in_days=None, force_delete_without_recovery=True
            )


def _generate_secret_string(spec: dict[str, Any], logical_id: str) -> str:
    """GenerateSecretString as Secrets Manager applies it (defaults from GetRandomPassword)."""
    from moto.secretsmanager.utils import random_password

    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if bool(template) != bool(key):
        raise _invalid(
            logical_id,
            "#/GenerateSecretString: SecretStringTemplate and GenerateStringKey must be "
            "given together",
        )
    length = int(spec.get("PasswordLength", 32))
    if not 1 <= length <= 4096:
        raise _invalid(logical_id, "#/GenerateSecretString/PasswordLength: must be 1 to 4096")
    password = random_password(
        length,
        spec.get("ExcludeCharacters", ""),
        _bool(spec.get("ExcludeNumbers", False)),
        _bool(spec.get("ExcludePunctuation", False)),
        _bool(spec.get("ExcludeUppercase", False)),
        _bool(spec.get("ExcludeLowercase", False)),
        _bool(spec.get("IncludeSpace", False)),
        _bool(spec.get("RequireEachIncludedType", True)),
    )
    if not template:
        return password
    try:
        document = json.loads(template)
    except ValueError:
        raise _invalid(logical_id, "#/GenerateSecretString/SecretStringTemplate: not valid JSON")
    if not isinstance(document, dict):
        raise _invalid(logical_id, "#/GenerateSecretString/SecretStringTemplate: not a JSON object")
    document[key] = password
    return json.dumps(document)


def _secret_arn(account_id: str, region_name: str, secret_id: str, logical_id: str) -> str:
    secret = _secrets(account_id, region_name).secrets.get(secret_id)
    if secret is None:
        from moto.secretsmanager.exceptions import SecretNotFoundException

        raise SecretNotFoundException()
    return secret.arn


class SecretsManagerResourcePolicy(_Handle, CloudFormationModel):
    """AWS::SecretsManager::ResourcePolicy, stored with moto's PutResourcePolicy.
    Ref = the secret's ARN; GetAtt Id = the same."""

    TYPE = "AWS::SecretsManager::ResourcePolicy"
    REQUIRED = ("SecretId", "ResourcePolicy")
    ATTRIBUTES = {"Id": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        arn = _secret_arn(account_id, region_name, props["SecretId"], logical_id)
        cls._put(props, account_id, region_name, arn, logical_id)
        return cls(account_id, region_name, arn)

    @staticmethod
    def _put(props, account_id, region_name, arn, logical_id):
        policy = props["ResourcePolicy"]
        document = policy if isinstance(policy, str) else json.dumps(policy)
        if _bool(props.get("BlockPublicPolicy", True)) and _is_public(json.loads(document)):
            # What Secrets Manager says when BlockPublicPolicy meets a policy open to everyone.
            from moto.secretsmanager.exceptions import InvalidParameterException

            raise InvalidParameterException(
                "An error occurred (PublicPolicyException) when calling the PutResourcePolicy "
                "operation: This resource policy will grant public access to the secret."
            )
        _secrets(account_id, region_name).put_resource_policy(arn, document)

    def _update(self, props):
        self._put(props, self.account_id, self.region_name, self.physical_id, self.physical_id)
        return True

    def _delete(self):
        backend = _secrets(self.account_id, self.region_name)
        if backend.secrets.get(self.physical_id) is not None:
            backend.delete_resource_policy(self.physical_id)


def _is_public(policy: dict[str, Any]) -> bool:
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*"):
            return True
    return False


class SecretsManagerRotationSchedule(_Handle, CloudFormationModel):
    """AWS::SecretsManager::RotationSchedule. The rotation configuration is recorded on moto's
    secret (DescribeSecret shows RotationEnabled, the Lambda and the rules) but the rotation
    Lambda is NOT invoked at create time: moto can only run a Lambda through docker. The secret's
    value therefore stays as created. Ref = the secret's ARN; GetAtt Id = the same."""

    TYPE = "AWS::SecretsManager::RotationSchedule"
    REQUIRED = ("SecretId",)
    ATTRIBUTES = {"Id": "physical_id"}

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        if props.get("HostedRotationLambda"):
            raise _invalid(logical_id, "HostedRotationLambda is not supported by the sandbox")
        arn = _secret_arn(account_id, region_name, props["SecretId"], logical_id)
        cls._record(props, account_id, region_name, arn)
        return cls(account_id, region_name, arn)

    @staticmethod
    def _record(props, account_id, region_name, arn):
        from moto.awslambda.utils import get_backend
        from moto.secretsmanager.exceptions import (
            InvalidParameterException,
            ResourceNotFoundException,
        )

        lambda_arn = props.get("RotationLambdaARN")
        if lambda_arn:
            try:
                get_backend(account_id, region_name).get_function(lambda_arn)
            except Exception:
                raise ResourceNotFoundException(f"Resource not found for ARN '{lambda_arn}'.")
        rules = props.get("RotationRules") or {}
        days = rules.get("AutomaticallyAfterDays")
        if days is not None and not 1 <= int(days) <= 1000:
            raise InvalidParameterException(
                "RotationRules.AutomaticallyAfterDays must be within 1-1000."
            )
        secret = _secrets(account_id, region_name).secrets[arn]
        secret.rotation_requested = True
        secret.rotation_enabled = True
        secret.rotation_lambda_arn = lambda_arn or ""
        secret.auto_rotate_after_days = int(days or 0)
        secret.rotation_rules = dict(rules)
        if days:
            secret.next_rotation_date = int(time.time()) + int(days) * 86400

    def _update(self, props):
        self._record(props, self.account_id, self.region_name, self.physical_id)
        return True

    def _delete(self):
        # CloudFormation cancels the rotation (CancelRotateSecret).
        secret = _secrets(self.account_id, self.region_name).secrets.get(self.physical_id)
        if secret is not None:
            secret.rotation_enabled = False
            secret.rotation_lambda_arn = ""
            secret.next_rotation_date = None


# --- S3 --------------------------------------------------------------------------------------


class S3BucketPolicy(_Handle, CloudFormationModel):
    """AWS::S3::BucketPolicy, stored with moto's PutBucketPolicy. The physical id is the
    bucket name, as AWS reports it."""

    TYPE = "AWS::S3::BucketPolicy"
    REQUIRED = ("Bucket", "PolicyDocument")

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        cls._put(props, account_id)
        return cls(account_id, region_name, props["Bucket"])

    @staticmethod
    def _put(props, account_id):
        document = props["PolicyDocument"]
        if not isinstance(document, str):
            document = json.dumps(document)
        _s3(account_id).put_bucket_policy(props["Bucket"], document.encode())

    def _update(self, props):
        if props.get("Bucket") != self.physical_id:
            return False
        self._put(props, self.account_id)
        return True

    def _delete(self):
        s3 = _s3(self.account_id)
        if self.physical_id in s3.buckets:
            s3.delete_bucket_policy(self.physical_id)


# --- ELBv2 trust store -----------------------------------------------------------------------


class TrustStore(_Handle, CloudFormationModel):
    """AWS::ElasticLoadBalancingV2::TrustStore: a CA bundle read from S3 for mutual TLS.
    moto has no trust stores, so they are kept in this module (`trust_store(arn)` finds one;
    DescribeTrustStores shows them). Ref = ARN; GetAtt TrustStoreArn, NumberOfCaCertificates,
    Status. A new bundle key or version updates the store in place (ModifyTrustStore); a new
    Name replaces it.

    The bundle is read as ELB reads it: a missing object or version is CaCertificatesBundleNotFound;
    a bundle that holds no PEM certificate (a placeholder), or any certificate that is not an
    X.509 v3 CA certificate (basic constraints CA:TRUE) with an RSA 2048-8192 or ECDSA P-256 /
    P-384 / P-521 key, is InvalidCaCertificatesBundle."""

    TYPE = "AWS::ElasticLoadBalancingV2::TrustStore"
    NAME_PROPERTY = "Name"
    REQUIRED = ("CaCertificatesBundleS3Bucket", "CaCertificatesBundleS3Key")
    ATTRIBUTES = {
        "TrustStoreArn": "physical_id",
        "NumberOfCaCertificates": "number_of_ca_certificates",
        "Status": "status",
    }

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        store_name = (props.get("Name") or name)[:32].rstrip("-")
        with _lock:
            taken = any(s.name == store_name
                        for s in _trust_stores.get((account_id, region_name), {}).values())
        if taken:
            raise _elbv2_error("DuplicateTrustStoreName",
                               f"A trust store with the name '{store_name}' already exists")
        pem, certificates = _read_ca_bundle(account_id, props)
        arn = (
            f"arn:aws:elasticloadbalancing:{region_name}:{account_id}:truststore/"
            f"{store_name}/{mock_random.get_random_hex(16)}"
        )
        store = cls(account_id, region_name, arn)
        store.name = store_name
        store.props = dict(props)
        store.ca_bundle_pem = pem
        store.number_of_ca_certificates = len(certificates)
        store.status = "ACTIVE"
        store.tags = _tags_dict(props.get("Tags"))
        with _lock:
            _trust_stores.setdefault((account_id, region_name), {})[arn] = store
        return store

    def _update(self, props):
        if (props.get("Name") or self.name)[:32].rstrip("-") != self.name:
            return False
        bundle = ("CaCertificatesBundleS3Bucket", "CaCertificatesBundleS3Key",
                  "CaCertificatesBundleS3ObjectVersion")
        if any(props.get(k) != self.props.get(k) for k in bundle):
            pem, certificates = _read_ca_bundle(self.account_id, props)
            self.ca_bundle_pem = pem
            self.number_of_ca_certificates = len(certificates)
        self.tags = _tags_dict(props.get("Tags"))
        self.props = dict(props)
        return True

    def to_api(self) -> dict[str, Any]:
        return {"Name": self.name, "TrustStoreArn": self.physical_id, "Status": self.status,
                "NumberOfCaCertificates": self.number_of_ca_certificates, "TotalRevokedEntries": 0}

    def _delete(self):
        elbv2 = _elbv2(self.account_id, self.region_name)
        for lb in elbv2.load_balancers.values():
            for listener in lb.listeners.values():
                mutual = getattr(listener, "mutual_authentication", None) or {}
                if mutual.get("TrustStoreArn") == self.physical_id:
                    raise _elbv2_error(
                        "TrustStoreInUse", f"Trust store '{self.physical_id}' is in use"
                    )
        with _lock:
            _trust_stores.get((self.account_id, self.region_name), {}).pop(self.physical_id, None)


_INVALID_BUNDLE = "The specified ca certificate bundle is in an invalid format, or corrupt."


def _read_ca_bundle(account_id: str, props: dict[str, Any]) -> tuple[str, list[Any]]:
    """The bundle's PEM text and its certificates, or ELB's refusal."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    bucket, key = props["CaCertificatesBundleS3Bucket"], props["CaCertificatesBundleS3Key"]
    try:
        obj = _s3(account_id).get_object(bucket, key, props.get("CaCertificatesBundleS3ObjectVersion"))
    except Exception:
        obj = None
    if obj is None or getattr(obj, "is_delete_marker", False):
        raise _elbv2_error("CaCertificatesBundleNotFound",
                           "The specified ca certificate bundle does not exist.")
    try:
        certificates = x509.load_pem_x509_certificates(obj.value)
    except ValueError:
        raise _elbv2_error("InvalidCaCertificatesBundle", _INVALID_BUNDLE)
    for certificate in certificates:
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        key_ok = False
        public_key = certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            key_ok = 2048 <= public_key.key_size <= 8192
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            key_ok = public_key.curve.name in ("secp256r1", "secp384r1", "secp521r1")
        if certificate.version != x509.Version.v3 or constraints is None or not constraints.ca \
                or not key_ok:
            raise _elbv2_error("InvalidCaCertificatesBundle", _INVALID_BUNDLE)
    return obj.value.decode(), certificates


def describe_trust_stores(response: Any) -> Any:
    """ELBv2 DescribeTrustStores (TrustStoreArns / Names filters), as AWS lists them."""
    from moto.core.responses import ActionResult

    arns = response._get_param("TrustStoreArns", [])
    names = response._get_param("Names", [])
    with _lock:
        stores = list(_trust_stores.get((response.current_account, response.region), {}).values())
    for arn in arns:
        if not any(s.physical_id == arn for s in stores):
            raise _elbv2_error("TrustStoreNotFound", f"Trust store '{arn}' not found")
    for name in names:
        if not any(s.name == name for s in stores):
            raise _elbv2_error("TrustStoreNotFound", f"Trust store '{name}' not found")
    rows = [s.to_api() for s in stores
            if (not arns or s.physical_id in arns) and (not names or s.name in names)]
    return ActionResult({"TrustStores": rows})


def _elbv2_error(code: str, message: str) -> Exception:
    from moto.elbv2.exceptions import ELBClientError

    return ELBClientError(code, message)


def trust_store(arn: str) -> TrustStore | None:
    """The trust store with this ARN, in any account (for the local data plane)."""
    with _lock:
        for stores in _trust_stores.values():
            if arn in stores:
                return stores[arn]
    return None


# --- ACM -------------------------------------------------------------------------------------


class AcmCertificate(_Handle, CloudFormationModel):
    """AWS::CertificateManager::Certificate, requested in moto's ACM. It is issued as ACM issues
    it: only once its DNS validation record (CNAME) can be read in public DNS (`issue_when_
    validated`). With DNS validation and a HostedZoneId, CloudFormation writes that record into
    the zone (Route 53 refuses a name outside the zone) and waits for the certificate to be
    issued. AWS waits up to 72 hours; the sandbox waits a few pace steps and then fails the
    resource, naming the record it did not find. Ref = ARN.

    The validation record stays in the zone when the certificate is deleted: CloudFormation
    does not remove the records it wrote for a certificate, so a cleanup has to."""

    TYPE = "AWS::CertificateManager::Certificate"
    REQUIRED = ("DomainName",)

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        from moto.acm.models import acm_backends

        method = props.get("ValidationMethod", "DNS")
        if method not in ("DNS", "EMAIL"):
            raise _invalid(logical_id, f"#/ValidationMethod: {method} is not a valid enum value")
        acm = acm_backends[account_id][region_name]
        arn = acm.request_certificate(
            props["DomainName"],
            idempotency_token=None,
            subject_alt_names=props.get("SubjectAlternativeNames") or [],
            tags=props.get("Tags") or [],
            cert_authority_arn=props.get("CertificateAuthorityArn"),
        )
        cert = acm.get_certificate(arn)
        cert.validation_method = method
        try:
            if method == "DNS":
                cls._write_validation_records(cert, props, account_id)
            cls._wait_until_issued(acm, arn)
        except Exception:
            # CloudFormation deletes what it could not finish making.
            acm._certificates.pop(arn, None)
            raise
        return cls(account_id, region_name, arn)

    @staticmethod
    def _wait_until_issued(acm: Any, arn: str) -> None:
        deadline = time.monotonic() + max(1.0, 20 * _PACE.get("slow", 0.05))
        while True:
            cert = acm.get_certificate(arn)  # get_certificate re-checks validation
            if cert.status == "ISSUED":
                return
            if time.monotonic() >= deadline:
                records = [o.get("ResourceRecord", {}).get("Name") for o in
                           cert.describe()["Certificate"].get("DomainValidationOptions", [])]
                raise ValidationError(message=(
                    f"Certificate {arn} is still {cert.status}: no validation record "
                    f"{', '.join(r for r in records if r)} in public DNS. AWS keeps waiting for "
                    "it up to 72 hours; the sandbox gives up."))
            time.sleep(min(0.05, _PACE.get("default", 0.02)))

    @staticmethod
    def _write_validation_records(cert: Any, props: dict[str, Any], account_id: str) -> None:
        from moto.route53.models import route53_backends

        zones = {
            o.get("DomainName"): o.get("HostedZoneId")
            for o in props.get("DomainValidationOptions") or []
            if o.get("HostedZoneId")
        }
        if not zones:
            return
        route53 = route53_backends[account_id]["aws"]
        for option in cert.describe()["Certificate"].get("DomainValidationOptions", []):
            zone_id = zones.get(option["DomainName"])
            record = option.get("ResourceRecord")
            if not zone_id or not record:
                continue
            zone = route53.get_hosted_zone(zone_id)
            name, zone_name = record["Name"].lower().rstrip("."), zone.name.lower().rstrip(".")
            if name != zone_name and not name.endswith("." + zone_name):
                from moto.route53.exceptions import InvalidChangeBatch

                error = InvalidChangeBatch()
                error.message = (f"[RRSet with DNS name {record['Name']} is not permitted in "
                                 f"zone {zone.name}]")
                raise error
            route53.change_resource_record_sets(
                zone_id,
                [{"Action": "UPSERT", "ResourceRecordSet": {
                    "Name": record["Name"], "Type": record["Type"], "TTL": 300,
                    "ResourceRecords": [{"Value": record["Value"]}]}}],
            )

    def _delete(self):
        from moto.acm.models import acm_backends

        acm = acm_backends[self.account_id][self.region_name]
        if self.physical_id in acm._certificates:
            acm.delete_certificate(self.physical_id)


def _issue_when_validated() -> None:
    """ACM issues a DNS-validated certificate once every domain's validation CNAME resolves in
    public DNS, here the sandbox's public hosted zones (sandbox_domain.public_records). moto
    issued any pending certificate after 60 seconds, record or not."""
    from moto.acm.models import CertBundle

    original = CertBundle.check
    if getattr(original, "_sandbox_patched", False):
        return

    def check(self: Any) -> None:
        pending = self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION"
        if not pending:
            return original(self)
        if getattr(self, "validation_method", "DNS") != "DNS":
            return None  # nobody in the sandbox answers validation emails
        import sandbox_domain

        options = self.describe()["Certificate"].get("DomainValidationOptions", [])
        for option in options:
            record = option.get("ResourceRecord") or {}
            wanted = record.get("Value", "").lower().rstrip(".")
            found = [v.lower().rstrip(".") for v in
                     sandbox_domain.public_records(record.get("Name", ""), "CNAME")]
            if wanted not in found:
                return None
        self.status = "ISSUED"
        return None

    check._sandbox_patched = True  # type: ignore[attr-defined]
    CertBundle.check = check


# === Mending the models moto already has =====================================================

_LB_TYPE_SEGMENT = {"application": "app", "network": "net", "gateway": "gwy"}


def _patch_load_balancer_arns() -> None:
    """moto writes `/app/` into every load-balancer ARN. AWS writes `/net/` for network and
    `/gwy/` for gateway load balancers. Listener, rule and endpoint-service ARNs are derived
    from the load balancer's ARN after it is made, so re-keying the new load balancer at once
    is enough (and covers the CreateLoadBalancer API as well as stacks)."""
    from moto.elbv2.models import ELBv2Backend

    original = ELBv2Backend.create_load_balancer
    if getattr(original, "_sandbox_patched", False):
        return

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        lb = original(self, *args, **kwargs)
        segment = _LB_TYPE_SEGMENT.get(lb.type, "app")
        if segment != "app":
            old_arn = lb.arn
            lb.arn = old_arn.replace(":loadbalancer/app/", f":loadbalancer/{segment}/", 1)
            self.load_balancers[lb.arn] = self.load_balancers.pop(old_arn)
            tags = self.tagging_service.list_tags_for_resource(old_arn)["Tags"]
            self.tagging_service.delete_all_tags_for_resource(old_arn)
            if tags:
                self.tagging_service.tag_resource(lb.arn, tags)
            # AWS names network load balancers <name>-<id>.elb.<region>.amazonaws.com.
            lb.dns_name = f"{lb.name}-{lb.arn.rsplit('/', 1)[-1]}.elb.{self.region_name}.amazonaws.com"
        return lb

    create_load_balancer._sandbox_patched = True  # type: ignore[attr-defined]
    ELBv2Backend.create_load_balancer = create_load_balancer


def _lb_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """AWS::ElasticLoadBalancingV2::LoadBalancer with Type, subnet mappings, attributes, tags."""
    props = cloudformation_json.get("Properties") or {}
    backend = _elbv2(account_id, region_name)
    lb_type = props.get("Type", "application")
    if lb_type == "application" and not props.get("Subnets") and not props.get("SubnetMappings"):
        raise _invalid(kwargs.get("LogicalId", resource_name), "#: Subnets or SubnetMappings required")
    lb = backend.create_load_balancer(
        name=props.get("Name") or resource_name,
        security_groups=props.get("SecurityGroups") or [],
        subnet_ids=props.get("Subnets") or [],
        subnet_mappings=props.get("SubnetMappings"),
        scheme=props.get("Scheme", "internet-facing"),
        loadbalancer_type=lb_type,
        ip_address_type=props.get("IpAddressType", "ipv4"),
        tags=props.get("Tags") or None,
    )
    attributes = {a["Key"]: a["Value"] for a in props.get("LoadBalancerAttributes") or []}
    if attributes:
        backend.modify_load_balancer_attributes(lb.arn, attributes)
    if lb_type == "network" and lb.security_groups:
        # A network load balancer with security groups filters PrivateLink traffic with them
        # unless told not to; DescribeLoadBalancers shows the setting.
        lb.enforce_security_group_inbound_rules_on_private_link_traffic = props.get(
            "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic", "on")
    return lb


def _lb_get_att(self: Any, attribute_name: str) -> Any:
    if attribute_name == "LoadBalancerArn":
        return self.arn
    if attribute_name == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/", 1)[1]
    if attribute_name == "CanonicalHostedZoneID":
        return self.canonical_hosted_zone_id
    if attribute_name == "SecurityGroups":
        return list(self.security_groups)
    if attribute_name == "DNSName":
        return self.dns_name
    if attribute_name == "LoadBalancerName":
        return self.name
    raise UnformattedGetAttTemplateException()


def _patch_elbv2_models() -> None:
    from moto.elbv2.models import FakeListener, FakeLoadBalancer, FakeTargetGroup
    from moto.elbv2.responses import ELBV2Response

    ELBV2Response.describe_trust_stores = describe_trust_stores

    _patch_load_balancer_arns()
    FakeLoadBalancer.create_from_cloudformation_json = classmethod(_lb_from_cloudformation)
    FakeLoadBalancer.get_cfn_attribute = _lb_get_att
    FakeLoadBalancer.has_cfn_attr = classmethod(
        lambda cls, attr: attr
        in (
            "CanonicalHostedZoneID",
            "DNSName",
            "LoadBalancerArn",
            "LoadBalancerFullName",
            "LoadBalancerName",
            "SecurityGroups",
        )
    )

    # Target groups: register the template's Targets and attributes, and go with the stack.
    create_tg = FakeTargetGroup.create_from_cloudformation_json.__func__

    def tg_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties") or {}
        tg = create_tg(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = _elbv2(account_id, region_name)
        if props.get("Targets"):
            backend.register_targets(tg.arn, props["Targets"])
        attributes = {a["Key"]: a["Value"] for a in props.get("TargetGroupAttributes") or []}
        if attributes:
            backend.modify_target_group_attributes(tg.arn, attributes)
        return tg

    FakeTargetGroup.create_from_cloudformation_json = classmethod(tg_from_cloudformation)
    FakeTargetGroup.delete = lambda self, account_id, region: _elbv2(
        account_id, region
    ).delete_target_group(self.arn)

    # Listeners: keep MutualAuthentication (moto has no mTLS) for the local data plane.
    create_listener = FakeListener.create_from_cloudformation_json.__func__

    def listener_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        listener = create_listener(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json.get("Properties") or {}
        mutual = props.get("MutualAuthentication")
        if mutual and mutual.get("Mode", "off") == "verify":
            if not mutual.get("TrustStoreArn") or trust_store(mutual["TrustStoreArn"]) is None:
                raise _elbv2_error(
                    "TrustStoreNotFound", f"Trust store '{mutual.get('TrustStoreArn')}' not found"
                )
        listener.mutual_authentication = dict(mutual or {"Mode": "off"})
        return listener

    FakeListener.create_from_cloudformation_json = classmethod(listener_from_cloudformation)
    FakeListener.delete = lambda self, account_id, region: _elbv2(account_id, region).delete_listener(
        self.arn
    )


def _patch_apigateway_models() -> None:
    from moto.apigateway.models import Deployment, Integration, Method, RestAPI

    def rest_api_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties") or {}
        if not props.get("Name") and not props.get("Body") and not props.get("BodyS3Location"):
            raise _missing(kwargs.get("LogicalId", resource_name), "Name")
        endpoint = props.get("EndpointConfiguration") or {}
        configuration = {"types": endpoint.get("Types") or ["EDGE"]}
        if endpoint.get("VpcEndpointIds"):
            configuration["vpcEndpointIds"] = list(endpoint["VpcEndpointIds"])
        policy = props.get("Policy")
        if policy is not None and not isinstance(policy, str):
            policy = json.dumps(policy)
        return _apigw(account_id, region_name).create_rest_api(
            name=props.get("Name") or resource_name,
            description=props.get("Description", ""),
            api_key_source=props.get("ApiKeySourceType"),
            endpoint_configuration=configuration,
            tags=_tags_dict(props.get("Tags")) or None,
            policy=policy,
            minimum_compression_size=props.get("MinimumCompressionSize"),
            disable_execute_api_endpoint=_bool(props.get("DisableExecuteApiEndpoint", False)),
        )

    RestAPI.create_from_cloudformation_json = classmethod(rest_api_from_cloudformation)

    def rest_api_update(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                        region_name):
        # Name, Description, Policy and EndpointConfiguration update in place in AWS ("No
        # interruption"); moto had no update, so a changed policy was silently kept as it was.
        props = cloudformation_json.get("Properties") or {}
        api = original_resource
        api.name = props.get("Name") or api.name
        api.description = props.get("Description", "")
        policy = props.get("Policy")
        api.policy = json.dumps(policy) if policy is not None and not isinstance(policy, str) else policy
        endpoint = props.get("EndpointConfiguration") or {}
        if endpoint.get("Types"):
            api.endpoint_configuration = {"types": list(endpoint["Types"])}
            if endpoint.get("VpcEndpointIds"):
                api.endpoint_configuration["vpcEndpointIds"] = list(endpoint["VpcEndpointIds"])
        return api

    RestAPI.update_from_cloudformation_json = classmethod(rest_api_update)
    # moto left the API behind when its stack was deleted.
    RestAPI.delete = lambda self, account_id, region: _apigw(account_id, region).apis.pop(
        self.id, None
    )

    def method_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties") or {}
        logical_id = kwargs.get("LogicalId", resource_name)
        for required in ("RestApiId", "ResourceId", "HttpMethod"):
            if not props.get(required):
                raise _missing(logical_id, required)
        backend = _apigw(account_id, region_name)
        api_id, resource_id, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        auth = props.get("AuthorizationType", "NONE")
        if auth in ("CUSTOM", "COGNITO_USER_POOLS") and not props.get("AuthorizerId"):
            raise _apigw_bad_request(f"AuthorizerId is required for authorization type {auth}")
        method = backend.put_method(
            function_id=api_id,
            resource_id=resource_id,
            method_type=verb,
            authorization_type=auth,
            api_key_required=_bool(props.get("ApiKeyRequired", False)),
            request_parameters=props.get("RequestParameters"),
            request_models=props.get("RequestModels"),
            operation_name=props.get("OperationName"),
            authorizer_id=props.get("AuthorizerId"),
            authorization_scopes=props.get("AuthorizationScopes"),
            request_validator_id=props.get("RequestValidatorId"),
        )
        for response in props.get("MethodResponses") or []:
            backend.put_method_response(
                api_id,
                resource_id,
                verb,
                str(response["StatusCode"]),
                response.get("ResponseModels"),
                response.get("ResponseParameters"),
            )
        integration = props.get("Integration")
        if integration:
            kind = integration.get("Type")
            # IntegrationHttpMethod is optional for MOCK integrations (moto required it).
            http_method = integration.get("IntegrationHttpMethod")
            if integration.get("ConnectionType") == "VPC_LINK" and not integration.get("ConnectionId"):
                raise _apigw_bad_request("ConnectionId is required for connection type VPC_LINK")
            created = backend.put_integration(
                function_id=api_id,
                resource_id=resource_id,
                method_type=verb,
                integration_type=kind,
                uri=integration.get("Uri"),
                integration_method=http_method,
                credentials=integration.get("Credentials"),
                request_templates=integration.get("RequestTemplates"),
                passthrough_behavior=integration.get("PassthroughBehavior"),
                cache_namespace=integration.get("CacheNamespace"),
                timeout_in_millis=integration.get("TimeoutInMillis"),
                request_parameters=integration.get("RequestParameters"),
                content_handling=integration.get("ContentHandling"),
                connection_type=integration.get("ConnectionType"),
            )
            created.connection_id = integration.get("ConnectionId")
            for response in integration.get("IntegrationResponses") or []:
                backend.put_integration_response(
                    api_id,
                    resource_id,
                    verb,
                    str(response["StatusCode"]),
                    response.get("SelectionPattern"),
                    response.get("ResponseTemplates"),
                    response.get("ResponseParameters"),
                    response.get("ContentHandling"),
                )
        return method

    Method.create_from_cloudformation_json = classmethod(method_from_cloudformation)

    # The API itself has no connectionId field in moto; show it where GetIntegration does.
    to_json = Integration.to_json
    if not getattr(to_json, "_sandbox_patched", False):

        def integration_to_json(self: Any) -> dict[str, Any]:
            document = to_json(self)
            if getattr(self, "connection_type", None):
                document["connectionType"] = self.connection_type
            if getattr(self, "connection_id", None):
                document["connectionId"] = self.connection_id
            return document

        integration_to_json._sandbox_patched = True  # type: ignore[attr-defined]
        Integration.to_json = integration_to_json

    # A deployment's Ref is its id (moto returned the object itself).
    Deployment.physical_resource_id = property(lambda self: self.id)
    Deployment.has_cfn_attr = classmethod(lambda cls, attr: attr == "DeploymentId")
    Deployment.get_cfn_attribute = _deployment_get_att


def _deployment_get_att(self: Any, attribute_name: str) -> Any:
    if attribute_name == "DeploymentId":
        return self.id
    raise UnformattedGetAttTemplateException()


def _endpoint_get_att(self: Any, attribute_name: str) -> Any:
    """AWS::EC2::VPCEndpoint's attributes, which moto 5.2.5 does not have. DnsEntries items
    read "<hosted zone id>:<DNS name>", the regional name first, as AWS lists them."""
    if attribute_name == "DnsEntries":
        return [f"{d.get('hosted_zone_id')}:{d.get('dns_name')}" for d in self.dns_entries or []]
    if attribute_name == "NetworkInterfaceIds":
        return list(self.network_interface_ids or [])
    if attribute_name == "Id":
        return self.id
    if attribute_name == "CreationTimestamp":
        return str(self.creation_timestamp)
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


def _patch_ec2_models() -> None:
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.vpcs import VPCEndPoint

    # Interface endpoints: moto stored the policy as a Python repr; AWS returns JSON.
    create_endpoint = VPCEndPoint.create_from_cloudformation_json.__func__

    def endpoint_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties") or {}
        document = props.get("PolicyDocument")
        if document is not None and not isinstance(document, str):
            cloudformation_json = {
                **cloudformation_json,
                "Properties": {**props, "PolicyDocument": json.dumps(document)},
            }
        endpoint = create_endpoint(cls, resource_name, cloudformation_json, account_id, region_name,
                                   **kwargs)
        # moto 5.2.5 drops the endpoint's Tags.
        endpoint.add_tags(_tags_dict(props.get("Tags")))
        return endpoint

    VPCEndPoint.create_from_cloudformation_json = classmethod(endpoint_from_cloudformation)
    VPCEndPoint.get_cfn_attribute = _endpoint_get_att

    # Removal with the stack, which moto 5.2.5 does not do for these.
    VPCEndPoint.delete = lambda self, account_id, region: _ec2(
        account_id, region
    ).delete_vpc_endpoints([self.id])
    FlowLogs.delete = lambda self, account_id, region: _ec2(account_id, region).delete_flow_logs(
        [self.id]
    )

    def release_address(self: Any, account_id: str, region: str) -> None:
        ec2 = _ec2(account_id, region)
        if self.allocation_id:
            ec2.release_address(allocation_id=self.allocation_id)
        else:
            ec2.release_address(address=self.public_ip)

    ElasticAddress.delete = release_address


def _gone(error: Exception) -> bool:
    """An EC2 error saying the resource is already gone, which CloudFormation counts as deleted."""
    code = getattr(error, "error_type", "") or ""
    return code.endswith(".NotFound") or code == "Gateway.NotAttached"


def _tolerating_gone(action: Callable[[], Any]) -> None:
    from moto.ec2.exceptions import EC2ClientError

    try:
        action()
    except EC2ClientError as error:
        if not _gone(error):
            raise


def _patch_ec2_deletion() -> None:
    """Stack deletion that removes the network resources from moto's EC2 backend.

    moto's stack engine calls `delete(account, region)` on a model, falling back to
    `delete_from_cloudformation_json` with the template's unresolved properties. For route
    tables, routes, subnet associations, gateway attachments and internet gateways the latter is
    a no-op in moto 5.2.5, so the stack said DELETE_COMPLETE while they stayed, and the VPC then
    failed to delete ("has dependencies"). Each type here does what AWS does when CloudFormation
    deletes it; AWS's own refusals (a route table still associated, an attached internet gateway)
    still come from moto's backend.
    """
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.route_tables import Route, RouteTable
    from moto.ec2.models.subnets import Subnet, SubnetRouteTableAssociation
    from moto.ec2.models.vpcs import VPC
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    def delete_route(self: Any, account_id: str, region: str) -> None:
        table = _ec2(account_id, region).route_tables.get(self.route_table.id)
        if table is not None:
            table._routes.pop(self.id, None)

    Route.delete = delete_route
    RouteTable.delete = lambda self, account_id, region: _tolerating_gone(
        lambda: _ec2(account_id, region).delete_route_table(self.id)
    )

    # moto recorded the association beside the route table without associating the subnet, so
    # DescribeRouteTables never showed it; and its Ref was the route table id where AWS gives
    # the association id (rtbassoc-…).
    def association_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties") or {}
        logical_id = kwargs.get("LogicalId", resource_name)
        for required in ("RouteTableId", "SubnetId"):
            if not props.get(required):
                raise _missing(logical_id, required)
        ec2 = _ec2(account_id, region_name)
        association = ec2.create_subnet_association(props["RouteTableId"], props["SubnetId"])
        association.association_id = ec2.associate_route_table(
            props["RouteTableId"], subnet_id=props["SubnetId"]
        )
        return association

    def disassociate(self: Any, account_id: str, region: str) -> None:
        ec2 = _ec2(account_id, region)
        if getattr(self, "association_id", None):
            _tolerating_gone(lambda: ec2.disassociate_route_table(self.association_id))
        ec2.subnet_associations.pop(f"{self.route_table_id}:{self.subnet_id}", None)

    SubnetRouteTableAssociation.create_from_cloudformation_json = classmethod(
        association_from_cloudformation
    )
    SubnetRouteTableAssociation.physical_resource_id = property(
        lambda self: getattr(self, "association_id", None) or self.route_table_id
    )
    SubnetRouteTableAssociation.has_cfn_attr = classmethod(lambda cls, attr: attr == "Id")
    SubnetRouteTableAssociation.get_cfn_attribute = _association_get_att
    SubnetRouteTableAssociation.delete = disassociate

    def detach_gateway(self: Any, account_id: str, region: str) -> None:
        ec2 = _ec2(account_id, region)
        gateway_id = self.gateway_id or ""
        if gateway_id.startswith("igw-"):
            _tolerating_gone(lambda: ec2.detach_internet_gateway(gateway_id, self.vpc_id))
            return
        # moto's VPN attachment does not name its gateway: find the one attached to this VPC.
        for gateway in list(ec2.vpn_gateways.values()):
            attachment = gateway.attachments.get(self.vpc_id)
            if attachment is not None and attachment.state == "attached":
                ec2.detach_vpn_gateway(gateway.id, self.vpc_id)

    VPCGatewayAttachment.delete = detach_gateway
    InternetGateway.delete = lambda self, account_id, region: _tolerating_gone(
        lambda: _ec2(account_id, region).delete_internet_gateway(self.id)
    )

    # AWS releases a NAT gateway's network interface and disassociates (but keeps) its Elastic
    # IP; the gateway itself stays listed as "deleted" for a while.
    def delete_nat_gateway(self: Any, account_id: str, region: str) -> None:
        ec2 = _ec2(account_id, region)
        if self.state == "deleted":
            return
        eni = getattr(self, "_eni", None)
        if eni is not None:
            for address in list(ec2.addresses):
                if address.eni is eni:
                    ec2.disassociate_address(address=address.public_ip)
            ec2.enis.pop(eni.id, None)
        ec2.delete_nat_gateway(self.id)

    NatGateway.delete = delete_nat_gateway
    Subnet.delete = lambda self, account_id, region: _tolerating_gone(
        lambda: _ec2(account_id, region).delete_subnet(self.id)
    )
    VPC.delete = lambda self, account_id, region: _tolerating_gone(
        lambda: _ec2(account_id, region).delete_vpc(self.id)
    )
    _delete_vpc_takes_its_default_network_acl()


def _delete_vpc_takes_its_default_network_acl() -> None:
    """AWS deletes a VPC's default network ACL with the VPC; moto 5.2.5 left it behind, still
    naming the deleted VPC in DescribeNetworkAcls."""
    from moto.ec2.models.vpcs import VPCBackend

    original = VPCBackend.delete_vpc
    if getattr(original, "_sandbox_patched", False):
        return

    def delete_vpc(self: Any, vpc_id: str) -> Any:
        vpc = original(self, vpc_id)
        for acl_id, acl in list(self.network_acls.items()):
            if acl.vpc_id == vpc_id and acl.default:
                self.network_acls.pop(acl_id, None)
        return vpc

    delete_vpc._sandbox_patched = True  # type: ignore[attr-defined]
    VPCBackend.delete_vpc = delete_vpc


def _association_get_att(self: Any, attribute_name: str) -> Any:
    if attribute_name == "Id":
        return self.physical_resource_id
    raise UnformattedGetAttTemplateException()


def _patch_kms_models() -> None:
    from moto.kms.models import Key

    create_key = Key.create_from_cloudformation_json.__func__
    if getattr(create_key, "_sandbox_patched", False):
        return

    # CloudFormation tags are Key/Value; KMS's CreateKey, which moto's handler passes them to
    # unchanged, takes TagKey/TagValue.
    def key_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties") or {}
        if props.get("Tags"):
            tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
            cloudformation_json = {**cloudformation_json, "Properties": {**props, "Tags": tags}}
        return create_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    key_from_cloudformation._sandbox_patched = True  # type: ignore[attr-defined]
    Key.create_from_cloudformation_json = classmethod(key_from_cloudformation)


def _patch_route53_models() -> None:
    from moto.route53.models import FakeZone, route53_backends

    FakeZone.delete = lambda self, account_id, region: route53_backends[account_id][
        "global"
    ].delete_hosted_zone(self.id)


def _patch_lambda_models() -> None:
    """An update's inline `ZipFile` is source code, as on create ("the code it's a plaintext
    code snippet"): moto's update took it for a base64 zip, so a function whose stack was
    updated lost its code."""
    import base64

    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.update_from_cloudformation_json.__func__

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = cloudformation_json.get("Properties") or {}
        code = props.get("Code") or {}
        if "ZipFile" in code:
            zipped = cls._create_zipfile_from_plaintext_code(code["ZipFile"])
            props = {**props, "Code": {**code, "ZipFile": base64.b64encode(zipped)}}
            cloudformation_json = {**cloudformation_json, "Properties": props}
        return original(cls, original_resource, new_resource_name, cloudformation_json,
                        account_id, region_name)

    LambdaFunction.update_from_cloudformation_json = classmethod(update)


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One CloudFormation LifecycleConfiguration rule in the shape PutBucketLifecycleConfiguration
    takes (what moto's model is built from)."""
    api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled")}
    api["Filter"] = {"Prefix": rule.get("Prefix") or ""}
    expiration: dict[str, Any] = {}
    if rule.get("ExpirationInDays") is not None:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if rule.get("ExpirationDate"):
        expiration["Date"] = rule["ExpirationDate"]
    if rule.get("ExpiredObjectDeleteMarker") is not None:
        expiration["ExpiredObjectDeleteMarker"] = _bool(rule["ExpiredObjectDeleteMarker"])
    if expiration:
        api["Expiration"] = expiration
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    elif rule.get("NoncurrentVersionExpirationInDays") is not None:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(abort["DaysAfterInitiation"])}
    transitions = [{"Days": t.get("TransitionInDays"), "Date": t.get("TransitionDate"),
                    "StorageClass": t.get("StorageClass")} for t in rule.get("Transitions") or []]
    if transitions:
        api["Transition"] = transitions
    return api


def _apply_bucket_configuration(backend: Any, name: str, props: dict[str, Any]) -> None:
    """The bucket settings of AWS::S3::Bucket that moto's model leaves out, each set through
    the same backend call its S3 API action uses (so GetBucketVersioning & co. show them)."""
    versioning = props.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(name, versioning.get("Status", "Enabled"))
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(name, {
            key: str(_bool(block.get(key, False))).lower()
            for key in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                        "RestrictPublicBuckets")
        })
    ownership = props.get("OwnershipControls")
    if ownership:
        backend.put_bucket_ownership_controls(name, ownership["Rules"][0]["ObjectOwnership"])
    lifecycle = props.get("LifecycleConfiguration")
    if lifecycle:
        backend.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in lifecycle.get("Rules") or []])


def _patch_s3_models() -> None:
    """AWS::S3::Bucket with versioning, public access block, ownership controls and lifecycle
    rules (moto applied only encryption and tags), and a deletion that refuses a bucket still
    holding objects, object versions or delete markers, as AWS refuses it (moto's stack said
    DELETE_COMPLETE and kept the bucket)."""
    from moto.s3.models import FakeBucket

    create = FakeBucket.create_from_cloudformation_json.__func__
    if getattr(create, "_sandbox_patched", False):
        return
    update = FakeBucket.update_from_cloudformation_json.__func__

    def bucket_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        bucket = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _apply_bucket_configuration(_s3(account_id), bucket.name,
                                    cloudformation_json.get("Properties") or {})
        return bucket

    def bucket_update(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                      region_name):
        props = cloudformation_json.get("Properties") or {}
        # moto's update reads BucketName from the template even when it was generated.
        props.setdefault("BucketName", original_resource.name)
        bucket = update(cls, original_resource, new_resource_name,
                        {**cloudformation_json, "Properties": props}, account_id, region_name)
        _apply_bucket_configuration(_s3(account_id), bucket.name, props)
        return bucket

    def delete_bucket(self: Any, account_id: str, region_name: str) -> None:
        from moto.s3.exceptions import BucketNotEmpty

        s3 = _s3(account_id)
        if self.name not in s3.buckets:
            return
        if self.keys:
            error = BucketNotEmpty(self.name)
            if self.versioning_status:
                error.message = ("The bucket you tried to delete is not empty. You must delete "
                                 "all versions in the bucket.")
            raise error
        s3.delete_bucket(self.name)

    bucket_from_cloudformation._sandbox_patched = True  # type: ignore[attr-defined]
    FakeBucket.create_from_cloudformation_json = classmethod(bucket_from_cloudformation)
    FakeBucket.update_from_cloudformation_json = classmethod(bucket_update)
    FakeBucket.delete = delete_bucket


def _instance_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """AWS::EC2::Instance as RunInstances makes it: the template's NetworkInterfaces (subnet,
    security groups, no public address), SecurityGroupIds, MetadataOptions, IamInstanceProfile,
    and root volumes sized from the AMI's snapshot when the template gives no size. moto's model
    dropped the network interfaces (the instance landed in the default VPC), the security
    groups by id and the metadata options, and refused a root volume without a size."""
    from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError

    props = cloudformation_json.get("Properties") or {}
    logical_id = kwargs.get("LogicalId", resource_name)
    ec2 = _ec2(account_id, region_name)
    image_id = props.get("ImageId")
    if not image_id:
        raise _missing(logical_id, "ImageId")
    images = ec2.describe_images(ami_ids=[image_id]) if image_id.startswith("ami-") else []
    if not images:
        raise InvalidAMIIdError(image_id)
    image = images[0]
    nics = []
    for nic in props.get("NetworkInterfaces") or []:
        spec: dict[str, Any] = {"DeviceIndex": int(nic.get("DeviceIndex", 0)),
                                "DeleteOnTermination": _bool(nic.get("DeleteOnTermination", True))}
        for cfn_name, api_name in (("SubnetId", "SubnetId"), ("NetworkInterfaceId", "NetworkInterfaceId"),
                                   ("PrivateIpAddress", "PrivateIpAddress"), ("Description", "Description")):
            if nic.get(cfn_name):
                spec[api_name] = nic[cfn_name]
        if nic.get("GroupSet"):
            spec["Groups"] = list(nic["GroupSet"])
        if "AssociatePublicIpAddress" in nic:
            spec["AssociatePublicIpAddress"] = _bool(nic["AssociatePublicIpAddress"])
        nics.append(spec)
    group_ids = list(props.get("SecurityGroupIds") or [])
    if nics and props.get("SubnetId"):
        raise EC2ClientError("InvalidParameterCombination", "Network interfaces and an "
                             "instance-level subnet ID may not be specified on the same request")
    if nics and (group_ids or props.get("SecurityGroups")):
        raise EC2ClientError("InvalidParameterCombination", "Network interfaces and an "
                             "instance-level security groups may not be specified on the same request")
    for group_id in group_ids:
        if ec2.get_security_group_from_id(group_id) is None:
            from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError

            raise InvalidSecurityGroupNotFoundError(group_id)
    mappings = []
    snapshot = getattr(image, "ebs_snapshot", None)
    for mapping in props.get("BlockDeviceMappings") or []:
        ebs = dict(mapping.get("Ebs") or {})
        if not ebs:
            continue
        if not ebs.get("VolumeSize") and not ebs.get("SnapshotId") \
                and mapping.get("DeviceName") == image.root_device_name and snapshot is not None:
            # The root volume is made from the AMI's snapshot, at the snapshot's size.
            ebs["SnapshotId"] = snapshot.id
            ebs["VolumeSize"] = snapshot.volume.size
        for key in ("Encrypted", "DeleteOnTermination"):
            if key in ebs:
                ebs[key] = _bool(ebs[key])
        if ebs.get("VolumeSize") is not None:
            ebs["VolumeSize"] = int(ebs["VolumeSize"])
        mappings.append({"DeviceName": mapping.get("DeviceName"), "Ebs": ebs})
    metadata = {k: str(v) for k, v in (props.get("MetadataOptions") or {}).items()}
    run: dict[str, Any] = {
        "instance_type": props.get("InstanceType", "m1.small"),
        "is_instance_type_default": not props.get("InstanceType"),
        "region_name": region_name,
        "subnet_id": props.get("SubnetId"),
        "key_name": props.get("KeyName"),
        "security_group_ids": group_ids,
        "nics": nics,
        "private_ip": props.get("PrivateIpAddress"),
        "placement": props.get("AvailabilityZone"),
        "metadata_options": metadata,
        "monitoring_state": "enabled" if _bool(props.get("Monitoring", False)) else "disabled",
        "tags": {"instance": _tags_dict(props.get("Tags"))},
    }
    if mappings:
        run["block_device_mappings"] = mappings
    profile = props.get("IamInstanceProfile")
    if profile:
        # Refused before launch when the profile does not exist, as RunInstances does.
        from moto.ec2.utils import filter_iam_instance_profiles

        filter_iam_instance_profiles(account_id, partition="aws", iam_instance_profile_arn=None,
                                     iam_instance_profile_name=profile)
    reservation = ec2.run_instances(image_id, 1, props.get("UserData"),
                                    list(props.get("SecurityGroups") or []), **run)
    instance = reservation.instances[0]
    if nics and not instance.security_groups:
        # DescribeInstances lists the primary network interface's groups as the instance's.
        primary = instance.nics.get(0)
        instance.security_groups = list(getattr(primary, "_group_set", []) or [])
    if profile:
        ec2.associate_iam_instance_profile(instance_id=instance.id,
                                           iam_instance_profile_name=profile)
    return instance


def _instance_get_att(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_att(self: Any, attribute_name: str) -> Any:
        if attribute_name == "InstanceId":
            return self.id
        if attribute_name == "VpcId":
            return self.vpc_id
        return original(self, attribute_name)

    return get_att


def _patch_ec2_instances() -> None:
    from moto.ec2.models.instances import Instance

    if getattr(Instance.create_from_cloudformation_json.__func__, "_sandbox_patched", False):
        return
    _instance_from_cloudformation._sandbox_patched = True  # type: ignore[attr-defined]
    Instance.create_from_cloudformation_json = classmethod(_instance_from_cloudformation)
    Instance.get_cfn_attribute = _instance_get_att(Instance.get_cfn_attribute)
    known = ("AvailabilityZone", "PrivateDnsName", "PublicDnsName", "PrivateIp", "PublicIp",
             "InstanceId", "VpcId")
    Instance.has_cfn_attr = classmethod(lambda cls, attr: attr in known)


def _patch_iam_roles() -> None:
    """AWS::IAM::Role's `ManagedPolicyArns` are attached (and kept in step on update) as
    CloudFormation does; moto 5.2.5 ignores them, so a role meant to carry
    AmazonSSMManagedInstanceCore or AmazonAPIGatewayPushToCloudWatchLogs had nothing."""
    from moto.iam.models import Role, iam_backends
    from moto.utilities.utils import get_partition

    if getattr(Role.create_from_cloudformation_json.__func__, "_sandbox_patched", False):
        return
    create = Role.create_from_cloudformation_json.__func__
    update = Role.update_from_cloudformation_json.__func__

    def sync(role: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
        backend = iam_backends[account_id][get_partition(region_name)]
        wanted = list(properties.get("ManagedPolicyArns") or [])
        for arn in list(role.managed_policies):
            if arn not in wanted:
                backend.detach_role_policy(arn, role.name)
        for arn in wanted:
            if arn not in role.managed_policies:
                backend.attach_role_policy(arn, role.name)

    def bound(names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        # moto's stack engine passes these by position or by name, depending on the caller.
        found = dict(zip(names, args))
        found.update(kwargs)
        return found

    def create_role(cls: Any, *args: Any, **kwargs: Any) -> Any:
        role = create(cls, *args, **kwargs)
        a = bound(("resource_name", "cloudformation_json", "account_id", "region_name"), args, kwargs)
        sync(role, a["cloudformation_json"].get("Properties", {}), a["account_id"], a["region_name"])
        return role

    def update_role(cls: Any, *args: Any, **kwargs: Any) -> Any:
        role = update(cls, *args, **kwargs)
        a = bound(("original_resource", "new_resource_name", "cloudformation_json", "account_id",
                   "region_name"), args, kwargs)
        sync(role, a["cloudformation_json"].get("Properties", {}), a["account_id"], a["region_name"])
        return role

    delete = Role.delete_from_cloudformation_json.__func__

    def delete_role(cls: Any, *args: Any, **kwargs: Any) -> None:
        # CloudFormation detaches what it attached before it deletes the role (IAM refuses to
        # delete a role with attached policies).
        a = bound(("resource_name", "cloudformation_json", "account_id", "region_name"), args, kwargs)
        backend = iam_backends[a["account_id"]][get_partition(a["region_name"])]
        for role in list(backend.roles.values()):
            if role.name == a["resource_name"]:
                for arn in list(role.managed_policies):
                    backend.detach_role_policy(arn, role.name)
        delete(cls, *args, **kwargs)

    create_role._sandbox_patched = True  # type: ignore[attr-defined]
    Role.create_from_cloudformation_json = classmethod(create_role)
    Role.update_from_cloudformation_json = classmethod(update_role)
    Role.delete_from_cloudformation_json = classmethod(delete_role)


_PATCHES: list[Callable[[], None]] = [
    _patch_iam_roles,
    _patch_lambda_models,
    _patch_elbv2_models,
    _patch_apigateway_models,
    _patch_ec2_models,
    _patch_ec2_deletion,
    _patch_kms_models,
    _patch_route53_models,
    _patch_s3_models,
    _patch_ec2_instances,
    _issue_when_validated,
]


def _forget() -> None:
    with _lock:
        _live.clear()
        _trust_stores.clear()


def _refresh_model_maps() -> None:
    # get_model_list/get_model_map/get_name_type_map are lru-cached: drop anything built
    # before this module's classes existed.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


_refresh_model_maps()


def install(ctx: Any) -> None:
    _PACE.update(ctx.pace)
    for patch in _PATCHES:
        patch()
    _refresh_model_maps()
    import control_api

    control_api.on_reset(_forget)
