"""Template parameters as CloudFormation checks and shows them.

What AWS does and moto 5.2.5 did not:
- Constraints are checked when a stack or change set is made or updated, and a value that breaks
  one refuses the call (ValidationError): AllowedValues ("Parameter 'P' must be one of
  AllowedValues"), AllowedPattern, matched against the whole value ("Parameter 'P' must match
  pattern <pattern>"), MinLength / MaxLength of String values, MinValue / MaxValue of Number
  values. A ConstraintDescription replaces the reason ("Parameter 'P' failed to satisfy
  constraint: <description>"). moto checked none of them, so an empty TrustBundleVersion with
  MinLength 1 went through.
- AWS-specific parameter types name things that must exist in the stack's account and region
  (AWS::EC2::VPC::Id, AWS::EC2::Subnet::Id, AWS::EC2::SecurityGroup::Id, their List<> forms,
  AWS::EC2::Image::Id, AWS::EC2::AvailabilityZone::Name, AWS::Route53::HostedZone::Id):
  "Parameter validation failed: parameter value <v> for parameter name <P> does not exist".
- SSM parameter types (AWS::SSM::Parameter::Value<...>) are read from the stack's own account
  (public parameters such as /aws/service/ami-amazon-linux-latest/... exist in every account);
  a missing one refuses the call ("Parameters: [<name>] cannot be found."). DescribeStacks shows
  the parameter's name as ParameterValue and what it resolved to as ResolvedValue, where moto
  showed the resolved value only. List values are shown comma-joined, NoEcho ones as ****
  (moto matched NoEcho against values instead of keys).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from moto.cloudformation.exceptions import ValidationError

# Type -> (what to look up, how to find it in the stack's account and region).
_EXISTS: dict[str, Callable[[str, str, str], bool]] = {}


def _ec2(account_id: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]


def _vpc_exists(account_id: str, region: str, value: str) -> bool:
    return value in _ec2(account_id, region).vpcs


def _subnet_exists(account_id: str, region: str, value: str) -> bool:
    try:
        _ec2(account_id, region).get_subnet(value)
        return True
    except Exception:  # noqa: BLE001 - moto's not-found error
        return False


def _group_exists(account_id: str, region: str, value: str) -> bool:
    return _ec2(account_id, region).get_security_group_from_id(value) is not None


def _image_exists(account_id: str, region: str, value: str) -> bool:
    try:
        return bool(_ec2(account_id, region).describe_images(ami_ids=[value]))
    except Exception:  # noqa: BLE001
        return False


def _zone_name_exists(account_id: str, region: str, value: str) -> bool:
    return any(z.name == value for z in _ec2(account_id, region).describe_availability_zones())


def _hosted_zone_exists(account_id: str, region: str, value: str) -> bool:
    from moto.route53.models import route53_backends

    return value.split("/")[-1] in route53_backends[account_id]["aws"].zones


_EXISTS.update({
    "AWS::EC2::VPC::Id": _vpc_exists,
    "AWS::EC2::Subnet::Id": _subnet_exists,
    "AWS::EC2::SecurityGroup::Id": _group_exists,
    "AWS::EC2::Image::Id": _image_exists,
    "AWS::EC2::AvailabilityZone::Name": _zone_name_exists,
    "AWS::Route53::HostedZone::Id": _hosted_zone_exists,
})


def _refuse(message: str) -> ValidationError:
    return ValidationError(message=message)


def _constraint(name: str, slot: dict[str, Any], reason: str) -> ValidationError:
    description = slot.get("ConstraintDescription")
    if description:
        return _refuse(f"Parameter '{name}' failed to satisfy constraint: {description}")
    return _refuse(f"Parameter '{name}' {reason}")


def _number(name: str, slot: dict[str, Any], text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _constraint(name, slot, "must be a number") from None


def _check_value(name: str, slot: dict[str, Any], text: str, kind: str) -> None:
    allowed = slot.get("AllowedValues")
    if allowed is not None and text not in [str(v) for v in allowed]:
        raise _constraint(name, slot, "must be one of AllowedValues")
    pattern = slot.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), text) is None:
        raise _constraint(name, slot, f"must match pattern {pattern}")
    if kind == "String":
        if slot.get("MinLength") is not None and len(text) < int(slot["MinLength"]):
            raise _constraint(name, slot, f"must contain at least {int(slot['MinLength'])} characters")
        if slot.get("MaxLength") is not None and len(text) > int(slot["MaxLength"]):
            raise _constraint(name, slot, f"must contain at most {int(slot['MaxLength'])} characters")
    if kind == "Number":
        number = _number(name, slot, text)
        if slot.get("MinValue") is not None and number < float(slot["MinValue"]):
            raise _constraint(name, slot, f"must be a number not less than {slot['MinValue']}")
        if slot.get("MaxValue") is not None and number > float(slot["MaxValue"]):
            raise _constraint(name, slot, f"must be a number not greater than {slot['MaxValue']}")


def validate(template: dict[str, Any], inputs: dict[str, Any], account_id: str, region: str) -> None:
    """Raise CloudFormation's ValidationError for the first parameter value it would refuse."""
    from moto.ssm.models import ssm_backends

    for name, slot in (template.get("Parameters") or {}).items():
        value = inputs.get(name, slot.get("Default"))
        if value is None:
            continue  # moto refuses it: "Parameters: [P] must have values"
        kind = str(slot.get("Type", "String"))
        text = ",".join(value) if isinstance(value, list) else str(value)
        if kind.startswith("AWS::SSM::Parameter::"):
            try:
                ssm_backends[account_id][region].get_parameter(text)
            except Exception:  # noqa: BLE001 - moto's ParameterNotFound
                raise _refuse(f"Parameters: [{text}] cannot be found.") from None
            continue
        inner = kind[5:-1] if kind.startswith("List<") else kind
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            items = [i.strip() for i in text.split(",")] if text else []
            member_kind = "Number" if inner == "Number" else "List"
            for item in items:
                _check_value(name, slot, item, member_kind)
        else:
            items = [text]
            _check_value(name, slot, text, "Number" if kind == "Number" else "String")
        exists = _EXISTS.get(inner)
        if exists is None:
            continue
        for item in items:
            if item == "" and not kind.startswith("List<"):
                raise _refuse(f"Parameter validation failed: parameter value  for parameter name "
                              f"{name} does not exist")
            if item and not exists(account_id, region, item):
                raise _refuse(f"Parameter validation failed: parameter value {item} for parameter "
                              f"name {name} does not exist")


def _validating(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def load_parameters(self: Any) -> None:
        validate(self._template, self.input_parameters, self._account_id, self._region_name)
        original(self)

    load_parameters._sandbox_patched = True  # type: ignore[attr-defined]
    return load_parameters


def _parameter_list(self: Any) -> list[dict[str, Any]]:
    """DescribeStacks' Parameters: what was given (or defaulted), as AWS shows it."""
    resource_map = self.resource_map
    slots = (resource_map._template or {}).get("Parameters") or {}
    rows = []
    for name, resolved in resource_map.resolved_parameters.items():
        slot = slots.get(name) or {}
        given = resource_map.input_parameters.get(name, slot.get("Default"))
        shown = ",".join(str(v) for v in given) if isinstance(given, list) else given
        row: dict[str, Any] = {"ParameterKey": name,
                               "ParameterValue": "****" if slot.get("NoEcho") else shown}
        if str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::"):
            row["ResolvedValue"] = (",".join(resolved) if isinstance(resolved, list) else resolved)
        rows.append(row)
    return rows


def install(_ctx: Any) -> None:
    from moto.cloudformation.models import Stack
    from moto.cloudformation.parsing import ResourceMap

    if getattr(ResourceMap.load_parameters, "_sandbox_patched", False):
        return
    ResourceMap.load_parameters = _validating(ResourceMap.load_parameters)
    Stack.parameter_list = property(_parameter_list)
