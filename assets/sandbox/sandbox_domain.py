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


def install(_ctx: Any) -> None:
    import control_api

    create()
    control_api.on_reset(create)
