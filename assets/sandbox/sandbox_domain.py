"""The sandbox's own public domain: `xwizard.test`, a public Route 53 hosted zone of the producer.

Pattern 2 needs a domain with a public hosted zone in the producer account: ACM validates the
service's certificate through a CNAME in it, and EC2 verifies the endpoint service's private
DNS name through a TXT record in it. A real user brings their own domain; the sandbox brings
one, under `.test`, a top-level domain reserved for testing (RFC 2606), so no name it holds can
ever be someone's real domain.

The zone is made, like the accounts, before the first request that needs moto's services, and
made again after a reset, always with the same id, so the ready file can name it before it
exists (`HOSTED_ZONE`) and a preset written once stays valid. Inside the sandbox a "public"
zone is what the sandbox's public DNS answers from: ACM (cfn_resource_types) and private DNS
verification (privatelink) look records up in public zones only.
"""

from __future__ import annotations

from typing import Any

import accounts

NAME = "xwizard.test"
# Route 53 zone ids are "Z" and upper-case letters and digits.
ZONE_ID = "Z0XWIZARDSANDBOX0TEST1"
ACCOUNT = accounts.PRODUCER
HOSTED_ZONE = {"name": NAME, "id": ZONE_ID, "account": ACCOUNT}


def create() -> None:
    """(Re)create the zone in the producer's Route 53, with its NS and SOA records."""
    from moto.route53.models import route53_backends

    route53 = route53_backends[ACCOUNT]["aws"]
    if ZONE_ID in route53.zones:
        return
    zone = route53.create_hosted_zone(
        NAME, private_zone=False, caller_reference="xwizard-sandbox-domain",
        comment="The xwizard sandbox's public domain (RFC 2606 reserved name)",
    )
    route53.zones.pop(zone.resource_id)
    zone.resource_id = ZONE_ID
    route53.zones[ZONE_ID] = zone


def public_records(name: str, record_type: str) -> list[str]:
    """What the sandbox's public DNS answers for `name`: the records of that name and type in
    the public hosted zone, of any account, with the longest name `name` falls under (the zone
    the name is delegated to). Values come back as Route 53 stores them (TXT values quoted)."""
    from moto.route53.models import route53_backends

    wanted = name.lower().rstrip(".")
    best: list[Any] = []
    best_length = -1
    for account_id in list(route53_backends.keys()):
        if "aws" not in route53_backends[account_id].keys():
            continue
        for zone in list(route53_backends[account_id]["aws"].zones.values()):
            zone_name = zone.name.lower().rstrip(".")
            if zone.private_zone or not (wanted == zone_name or wanted.endswith("." + zone_name)):
                continue
            if len(zone_name) > best_length:
                best, best_length = [zone], len(zone_name)
            elif len(zone_name) == best_length:
                best.append(zone)
    values: list[str] = []
    for zone in best:
        for rrset in list(zone.rrsets):
            if rrset.type == record_type and rrset.name.lower().rstrip(".") == wanted:
                values += [r if isinstance(r, str) else r.get("Value", "") for r in rrset.records]
    return values


def _soa_records_as_route53_writes_them() -> None:
    """moto 5.2.5 stores a new zone's SOA record as a nested {"Value": ...} dict, so
    ListResourceRecordSets showed "{'Value': '...'}" as its value; AWS shows the SOA text, with
    awsdns-hostmaster.amazon.com as the zone's contact. And AWS names the zone and its records
    with the final dot (`example.com.`), however the name was given."""
    from moto.route53.models import Route53Backend

    original = Route53Backend.create_hosted_zone
    if getattr(original, "_sandbox_patched", False):
        return

    def create_hosted_zone(self: Any, *args: Any, **kwargs: Any) -> Any:
        zone = original(self, *args, **kwargs)
        # Route 53 names a zone, and its NS and SOA records, fully qualified.
        if not zone.name.endswith("."):
            zone.name += "."
        for rrset in zone.rrsets:
            if rrset.type in ("NS", "SOA") and not rrset.name.endswith("."):
                rrset.name += "."
            if rrset.type == "SOA":
                rrset.records = [
                    (r.get("Value", "") if isinstance(r, dict) else r).replace(
                        " hostmaster.example.com. ", " awsdns-hostmaster.amazon.com. ")
                    for r in rrset.records]
        return zone

    create_hosted_zone._sandbox_patched = True  # type: ignore[attr-defined]
    Route53Backend.create_hosted_zone = create_hosted_zone


def install(_ctx: Any) -> None:
    import control_api

    _soa_records_as_route53_writes_them()
    create()
    control_api.on_reset(create)
