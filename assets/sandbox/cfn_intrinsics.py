"""CloudFormation intrinsic functions moto 5.2.5's template engine lacks or gets wrong:
`Fn::Cidr`, and `Fn::GetAtt` of a nested attribute.

moto resolves intrinsic functions in `moto.cloudformation.parsing.clean_json`, which recurses
through its own module global; replacing that global therefore covers every nesting, e.g.
`!Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 6, 8]]`. Without it moto handed the unresolved
`{"Fn::Cidr": [...]}` to `Fn::Select`, which failed with "required key [0] not found".

`Fn::Cidr: [ipBlock, count, cidrBits]` as the CloudFormation template reference documents it:
- ipBlock: the CIDR block to split (IPv4 or IPv6);
- count: how many CIDR blocks to return, 1 to 256;
- cidrBits: subnet bits, the inverse of the mask: the blocks are /(32 - cidrBits) for IPv4 and
  /(128 - cidrBits) for IPv6 (cidrBits 8 gives /24 blocks; 64 gives IPv6 /64 blocks);
- returns the first `count` consecutive blocks of that size from the start of ipBlock, e.g.
  `["192.168.0.0/24", 6, 5]` gives 192.168.0.0/27, 192.168.0.32/27, ... 192.168.0.160/27.
Numbers may be given as strings (the reference's own JSON example does so).

`Fn::GetAtt` of a nested attribute (`!GetAtt Service.PrivateDnsNameConfiguration.Name`, or
`${Service.PrivateDnsNameConfiguration.Name}` in `Fn::Sub`): the logical name is what comes
before the first dot and the attribute name is all the rest. moto split at every dot and asked
the resource for `PrivateDnsNameConfiguration` alone.

A condition naming another condition in YAML's short form (`!And [!Condition A, ...]`): moto's
YAML loader reads `!Condition A` as `{"Fn::Condition": "A"}`, which its condition evaluator does
not know, so the whole condition came out false. It is read as `{"Condition": "A"}`, as in JSON.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError


def _error(detail: str) -> ValidationError:
    return ValidationError(message=f"Template error: Fn::Cidr {detail}")


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _error(f"{name} must be an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise _error(f"{name} must be an integer, got {value!r}") from None


def cidr(ip_block: Any, count: Any, cidr_bits: Any) -> list[str]:
    """The value of `Fn::Cidr: [ip_block, count, cidr_bits]` with its arguments resolved."""
    if not isinstance(ip_block, str):
        raise _error(f"ipBlock must be a CIDR block string, got {ip_block!r}")
    try:
        # A block given with host bits set (10.0.0.1/16) is split from its network address.
        network = ipaddress.ip_network(ip_block.strip(), strict=False)
    except ValueError:
        raise _error(f"ipBlock {ip_block!r} is not a valid CIDR block") from None
    how_many = _integer(count, "count")
    bits = _integer(cidr_bits, "cidrBits")
    if not 1 <= how_many <= 256:
        raise _error(f"count must be between 1 and 256, got {how_many}")
    prefix = network.max_prefixlen - bits
    if bits < 0 or prefix < network.prefixlen:
        raise _error(
            f"cidrBits {bits} does not fit in {network.with_prefixlen}: blocks would be /{prefix}"
        )
    available = 1 << (prefix - network.prefixlen)
    if how_many > available:
        raise _error(
            f"cannot make {how_many} /{prefix} blocks from {network.with_prefixlen}; "
            f"it holds {available}"
        )
    size = 1 << bits
    base = int(network.network_address)
    make = ipaddress.IPv4Network if network.version == 4 else ipaddress.IPv6Network
    return [make((base + i * size, prefix)).with_prefixlen for i in range(how_many)]


def _with_fn_cidr(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
            target = resource_json["Fn::GetAtt"]
            if isinstance(target, str):
                target = target.split(".", 1)
            if isinstance(target, list) and len(target) > 2 and all(isinstance(t, str) for t in target):
                target = [target[0], ".".join(target[1:])]
            if target is not resource_json["Fn::GetAtt"]:
                resource_json = {**resource_json, "Fn::GetAtt": target}
        if isinstance(resource_json, dict) and "Fn::Cidr" in resource_json:
            arguments = resource_json["Fn::Cidr"]
            if not isinstance(arguments, list) or len(arguments) != 3:
                raise _error("takes three arguments: [ipBlock, count, cidrBits]")
            ip_block, count, cidr_bits = (clean_json(a, resources_map) for a in arguments)
            return cidr(ip_block, count, cidr_bits)
        return original(resource_json, resources_map)

    clean_json._sandbox_original = original  # type: ignore[attr-defined]
    return clean_json


def _named_conditions(node: Any) -> Any:
    if isinstance(node, list):
        return [_named_conditions(n) for n in node]
    if isinstance(node, dict):
        if list(node) == ["Fn::Condition"]:
            return {"Condition": node["Fn::Condition"]}
        return {k: _named_conditions(v) for k, v in node.items()}
    return node


def _reads_short_form_conditions(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_condition(condition: Any, resources_map: Any, condition_map: Any) -> Any:
        return original(_named_conditions(condition), resources_map, condition_map)

    parse_condition._sandbox_original = original  # type: ignore[attr-defined]
    return parse_condition


def install(ctx: Any) -> None:
    if hasattr(parsing.clean_json, "_sandbox_original"):
        return
    parsing.clean_json = _with_fn_cidr(parsing.clean_json)
    parsing.parse_condition = _reads_short_form_conditions(parsing.parse_condition)
