"""Security groups and their rules as CloudFormation and EC2 make them.

What AWS does and moto 5.2.5 did not:
- AWS::EC2::SecurityGroup: the template's `SecurityGroupIngress` and `SecurityGroupEgress` rules
  are made with their descriptions; naming any egress rule replaces the default allow-all egress
  rule (the EC2 and CloudFormation guides: "When you specify a VPC security group, Amazon EC2
  creates a default egress rule that allows egress traffic ... if you specify egress rules, the
  default rule is removed"). moto ignored the egress rules, read `CidrIp` as a list and, on any
  update, deleted the group and made another; AWS changes the rules in place and replaces the
  group only when GroupName, GroupDescription or VpcId change.
- AWS::EC2::SecurityGroupEgress, which moto does not know: one outbound rule. Ref and
  Fn::GetAtt Id are the rule's id (sgr-…); GroupId and IpProtocol are required, and so is one
  destination (CidrIp, CidrIpv6, DestinationPrefixListId or DestinationSecurityGroupId). Only
  Description changes in place.
- AWS::EC2::SecurityGroupIngress: its Ref is the rule id (moto had none), its Description is
  kept, and deleting it revokes the rule (moto left the rule behind).
- DeleteSecurityGroup (API and stacks) refuses a group another group's rule refers to, or one a
  network interface still uses: `DependencyViolation` "resource sg-… has a dependent object".
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

import cfn_resource_types as cfn
from cfn_resource_types import _Handle, _invalid, _missing

# Ports make sense for these protocols only; others (-1, icmpv6 by number...) take none.
_PORTED = {"tcp", "udp", "icmp", "6", "17", "1"}


def _ec2(account_id: str, region_name: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region_name]


def _ports_error() -> Exception:
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError(
        "InvalidParameterValue",
        "Invalid value for portRange. Must specify both from and to ports with TCP/UDP.",
    )


def _rule_arguments(rule: dict[str, Any], egress: bool, logical_id: str) -> dict[str, Any]:
    """moto's authorize_* arguments for one template rule; raises what AWS raises."""
    protocol = str(rule.get("IpProtocol", "")).lower()
    if not protocol:
        raise _missing(logical_id, "IpProtocol")
    from_port, to_port = rule.get("FromPort"), rule.get("ToPort")
    if protocol in _PORTED and (from_port is None or to_port is None):
        raise _ports_error()
    description = rule.get("Description")
    peer = "Destination" if egress else "Source"
    ip_ranges: list[dict[str, str]] = []
    groups: list[dict[str, str]] = []
    prefix_lists: list[dict[str, str]] = []
    for key in ("CidrIp", "CidrIpv6"):
        if rule.get(key):
            ip_ranges.append({key: rule[key], **({"Description": description} if description else {})})
    if rule.get(f"{peer}SecurityGroupId"):
        pair = {"GroupId": rule[f"{peer}SecurityGroupId"]}
        owner = rule.get("SourceSecurityGroupOwnerId") if not egress else None
        if owner:
            pair["UserId"] = owner
        if description:
            pair["Description"] = description
        groups.append(pair)
    if not egress and rule.get("SourceSecurityGroupName"):
        groups.append({"GroupName": rule["SourceSecurityGroupName"]})
    if rule.get(f"{peer}PrefixListId"):
        prefix_lists.append({"PrefixListId": rule[f"{peer}PrefixListId"],
                             **({"Description": description} if description else {})})
    if not (ip_ranges or groups or prefix_lists):
        names = (["CidrIp", "CidrIpv6", f"{peer}PrefixListId", f"{peer}SecurityGroupId"]
                 + ([] if egress else ["SourceSecurityGroupName"]))
        raise _invalid(logical_id, f"#: one of {', '.join(names)} is required")
    return {
        "ip_protocol": protocol,
        "from_port": from_port if protocol not in ("-1", "all") else None,
        "to_port": to_port if protocol not in ("-1", "all") else None,
        "ip_ranges": ip_ranges,
        "source_groups": groups,
        "prefix_list_ids": prefix_lists,
    }


def authorize(ec2: Any, group_id: str, rule: dict[str, Any], egress: bool, logical_id: str) -> list[str]:
    """Add one template rule to the group; returns the ids of the rules EC2 made."""
    arguments = _rule_arguments(rule, egress, logical_id)
    group = ec2.get_security_group_from_id(group_id)
    if group is None:
        from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError

        raise InvalidSecurityGroupNotFoundError(group_id)
    call = ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
    added, _group = call(group_name_or_id=group_id, vpc_id=group.vpc_id, **arguments)
    return [r.id for r in added]


def revoke(ec2: Any, group_id: str, rule_ids: list[str], egress: bool) -> None:
    """Remove rules by id; a group or rule already gone counts as removed."""
    group = ec2.get_security_group_from_id(group_id)
    if group is None:
        return
    if egress:
        group.egress_rules = [r for r in group.egress_rules if r.id not in rule_ids]
    else:
        group.ingress_rules = [r for r in group.ingress_rules if r.id not in rule_ids]


def _set_description(ec2: Any, group_id: str, rule_ids: list[str], egress: bool,
                     description: str | None) -> None:
    group = ec2.get_security_group_from_id(group_id)
    if group is None:
        return
    for rule in group.egress_rules if egress else group.ingress_rules:
        if rule.id not in rule_ids:
            continue
        for holder in (rule.ip_range, rule.source_group):
            if holder:
                if description:
                    holder["Description"] = description
                else:
                    holder.pop("Description", None)


# --- AWS::EC2::SecurityGroupEgress -----------------------------------------------------------

_IMMUTABLE_RULE_PROPERTIES = (
    "GroupId", "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6",
    "DestinationPrefixListId", "DestinationSecurityGroupId", "SourcePrefixListId",
    "SourceSecurityGroupId", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "GroupName",
)


class SecurityGroupEgress(_Handle, CloudFormationModel):
    """AWS::EC2::SecurityGroupEgress. Ref = the rule id (sgr-…); GetAtt Id = the same."""

    TYPE = "AWS::EC2::SecurityGroupEgress"
    REQUIRED = ("GroupId", "IpProtocol")
    ATTRIBUTES = {"Id": "physical_id"}

    def __init__(self, account_id, region_name, rule_id, group_id, props):
        super().__init__(account_id, region_name, rule_id)
        self.group_id = group_id
        self.props = dict(props)

    @classmethod
    def _create(cls, name, props, account_id, region_name, logical_id):
        ids = authorize(_ec2(account_id, region_name), props["GroupId"], props, True, logical_id)
        return cls(account_id, region_name, ids[0], props["GroupId"], props)

    def _update(self, props):
        if any(props.get(k) != self.props.get(k) for k in _IMMUTABLE_RULE_PROPERTIES):
            return False
        _set_description(_ec2(self.account_id, self.region_name), self.group_id,
                         [self.physical_id], True, props.get("Description"))
        self.props = dict(props)
        return True

    def _delete(self):
        revoke(_ec2(self.account_id, self.region_name), self.group_id, [self.physical_id], True)


# --- mending moto's SecurityGroup and SecurityGroupIngress ------------------------------------


def _group_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    props = cloudformation_json.get("Properties") or {}
    logical_id = kwargs.get("LogicalId", resource_name)
    if not props.get("GroupDescription"):
        raise _missing(logical_id, "GroupDescription")
    ec2 = _ec2(account_id, region_name)
    group = ec2.create_security_group(
        name=props.get("GroupName") or resource_name,
        description=props["GroupDescription"],
        vpc_id=props.get("VpcId"),
        tags=cfn._tags_dict(props.get("Tags")),
    )
    try:
        _apply_inline_rules(ec2, group, props, logical_id)
    except Exception:
        # AWS makes the group and its rules in one step: a bad rule leaves no group behind.
        ec2.groups[group.vpc_id].pop(group.id, None)
        raise
    return group


def _apply_inline_rules(ec2: Any, group: Any, props: dict[str, Any], logical_id: str) -> None:
    made: dict[str, list[str]] = {"ingress": [], "egress": []}
    for rule in props.get("SecurityGroupIngress") or []:
        made["ingress"] += authorize(ec2, group.id, rule, False, logical_id)
    egress = props.get("SecurityGroupEgress") or []
    if egress:
        # Named egress rules replace the default allow-all rule(s).
        group.egress_rules = [r for r in group.egress_rules if not _is_default_egress(r)]
    else:
        _restore_default_egress(ec2, group)
    for rule in egress:
        made["egress"] += authorize(ec2, group.id, rule, True, logical_id)
    group._xw_inline_rules = made


def _is_default_egress(rule: Any) -> bool:
    return (rule.ip_protocol == "-1" and not rule.source_group and not rule.prefix_list_id
            and rule.ip_range in ({"CidrIp": "0.0.0.0/0"}, {"CidrIpv6": "::/0"}))


def _restore_default_egress(ec2: Any, group: Any) -> None:
    if any(_is_default_egress(r) for r in group.egress_rules):
        return
    ec2.authorize_security_group_egress(
        group_name_or_id=group.id, ip_protocol="-1", from_port=None, to_port=None,
        ip_ranges=[{"CidrIp": "0.0.0.0/0"}], vpc_id=group.vpc_id)


def _group_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    props = cloudformation_json.get("Properties") or {}
    group = original_resource
    replaced = (
        props.get("GroupDescription") != group.description
        or (props.get("VpcId") or group.vpc_id) != group.vpc_id
        or (props.get("GroupName") and props["GroupName"] != group.name)
    )
    if replaced:
        # CloudFormation makes the new group first and deletes the old one in its cleanup
        # phase, where a failure does not undo the update.
        new = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)
        try:
            group.delete(account_id, region_name)
        except Exception:  # noqa: BLE001 - a group still in use stays, as in AWS
            pass
        return new
    ec2 = _ec2(account_id, region_name)
    previous = getattr(group, "_xw_inline_rules", {"ingress": [], "egress": []})
    revoke(ec2, group.id, previous["ingress"], False)
    revoke(ec2, group.id, previous["egress"], True)
    _apply_inline_rules(ec2, group, props, new_resource_name)
    group.tags = {}
    for key, value in cfn._tags_dict(props.get("Tags")).items():
        group.add_tag(key, value)
    return group


def _ingress_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    props = cloudformation_json.get("Properties") or {}
    logical_id = kwargs.get("LogicalId", resource_name)
    ec2 = _ec2(account_id, region_name)
    group_id = props.get("GroupId")
    if not group_id:
        if not props.get("GroupName"):
            raise _invalid(logical_id, "#: one of GroupId or GroupName is required")
        group = ec2.get_security_group_by_name_or_id(props["GroupName"])
        if group is None:
            from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError

            raise InvalidSecurityGroupNotFoundError(props["GroupName"])
        group_id = group.id
    ids = authorize(ec2, group_id, props, False, logical_id)
    rule = cls.__new__(cls)
    rule.security_group = ec2.get_security_group_from_id(group_id)
    rule.properties = dict(props)
    rule.group_id = group_id
    rule.rule_id = ids[0]
    return rule


def _ingress_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    props = cloudformation_json.get("Properties") or {}
    old = original_resource.properties
    if any(props.get(k) != old.get(k) for k in _IMMUTABLE_RULE_PROPERTIES):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)
    _set_description(_ec2(account_id, region_name), original_resource.group_id,
                     [original_resource.rule_id], False, props.get("Description"))
    original_resource.properties = dict(props)
    return original_resource


def _ingress_delete(self: Any, account_id: str, region_name: str) -> None:
    revoke(_ec2(account_id, region_name), self.group_id, [self.rule_id], False)


def _ingress_get_att(self: Any, attribute_name: str) -> Any:
    if attribute_name == "Id":
        return self.rule_id
    raise UnformattedGetAttTemplateException()


def _group_get_att(original: Any) -> Any:
    def get_att(self: Any, attribute_name: str) -> Any:
        if attribute_name == "GroupId":
            return self.id
        if attribute_name == "VpcId":
            return self.vpc_id
        return original(self, attribute_name)

    return get_att


def _refuses_a_group_in_use(original: Any) -> Any:
    def delete_security_group(self: Any, name: str | None = None, group_id: str | None = None) -> Any:
        from moto.ec2.exceptions import DependencyViolationError

        group = self.get_security_group_by_name_or_id(group_id or name or "")
        if group is not None:
            for other in (g for by_vpc in list(self.groups.values()) for g in list(by_vpc.values())):
                if other.id == group.id:
                    continue
                for rule in list(other.ingress_rules) + list(other.egress_rules):
                    if (rule.source_group or {}).get("GroupId") == group.id:
                        raise DependencyViolationError(f"resource {group.id} has a dependent object")
            for eni in list(self.enis.values()):
                if any(g.id == group.id for g in getattr(eni, "_group_set", []) or []):
                    raise DependencyViolationError(f"resource {group.id} has a dependent object")
        return original(self, name=name, group_id=group_id)

    delete_security_group._sandbox_patched = True  # type: ignore[attr-defined]
    return delete_security_group


def install(ctx: Any) -> None:
    from moto.ec2.models.security_groups import (
        SecurityGroup,
        SecurityGroupBackend,
        SecurityGroupIngress,
    )

    if getattr(SecurityGroupBackend.delete_security_group, "_sandbox_patched", False):
        return
    SecurityGroupBackend.delete_security_group = _refuses_a_group_in_use(
        SecurityGroupBackend.delete_security_group)
    SecurityGroup.create_from_cloudformation_json = classmethod(_group_from_cloudformation)
    SecurityGroup.update_from_cloudformation_json = classmethod(_group_update)
    SecurityGroup.get_cfn_attribute = _group_get_att(SecurityGroup.get_cfn_attribute)
    SecurityGroup.has_cfn_attr = classmethod(lambda cls, attr: attr in ("GroupId", "VpcId"))
    SecurityGroupIngress.create_from_cloudformation_json = classmethod(_ingress_from_cloudformation)
    SecurityGroupIngress.update_from_cloudformation_json = classmethod(_ingress_update)
    SecurityGroupIngress.physical_resource_id = property(lambda self: self.rule_id)
    SecurityGroupIngress.has_cfn_attr = classmethod(lambda cls, attr: attr == "Id")
    SecurityGroupIngress.get_cfn_attribute = _ingress_get_att
    SecurityGroupIngress.delete = _ingress_delete
    cfn._refresh_model_maps()

