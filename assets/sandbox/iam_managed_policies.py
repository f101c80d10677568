"""AWS managed policies in every account, made on first use.

In AWS every account has AWS's managed policies (`arn:aws:iam::aws:policy/...`): a role can have
`AmazonAPIGatewayPushToCloudWatchLogs` attached without anyone creating it. moto 5.2.5 has none
unless told to load all ~1,600 (MOTO_IAM_LOAD_MANAGED_POLICIES), and then it builds them again
every time an account's IAM is set up or reset: 0.18 s each, measured as 49 s more over 12 tests.
So this keeps moto's default and makes a policy from moto's own copy of AWS's data the first
time its ARN is asked for: GetPolicy and attaching it to a role, user or group. AWS's error for
an ARN that is not an AWS managed policy is unchanged. Listing with `Scope=AWS` shows only the
policies made so far.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend

_PREFIX = ":iam::aws:policy/"


@functools.cache
def _aws_data() -> dict[str, Any]:
    """AWS's managed policies by name (path included, as moto's data keys them), parsed once."""
    return json.loads(aws_managed_policies_data)


def _make_if_aws_managed(backend: IAMBackend, policy_arn: str) -> None:
    if not isinstance(policy_arn, str) or _PREFIX not in policy_arn:
        return
    if policy_arn in backend.managed_policies:
        return
    name = policy_arn.split(_PREFIX, 1)[1].rsplit("/", 1)[-1]
    data = _aws_data().get(name)
    if data is None:
        return  # not an AWS managed policy: moto answers NoSuchEntity, as AWS does
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn != policy_arn:
        return  # same name, other path or partition: not the policy asked for
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy


def _first_making(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        _make_if_aws_managed(self, policy_arn)
        return method(self, policy_arn, *args, **kwargs)

    return wrapper


def install(ctx: Any) -> None:
    for name in ("get_policy", "attach_role_policy", "attach_user_policy", "attach_group_policy"):
        setattr(IAMBackend, name, _first_making(getattr(IAMBackend, name)))
