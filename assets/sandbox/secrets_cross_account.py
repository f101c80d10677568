"""Cross-account Secrets Manager reads that honour the secret's resource policy and KMS key.

In AWS a principal of account B reads a secret of account A by its ARN when
  1. the secret's resource policy allows B's principal the action (an explicit Deny wins), and
  2. for GetSecretValue, the secret is encrypted with a customer managed KMS key whose key policy
     allows B kms:Decrypt; a secret under the AWS managed key aws/secretsmanager can never be read
     from another account, because that key's policy cannot be edited.
moto looks every secret up in the caller's own account, so a cross-account read always ends in
ResourceNotFoundException, and it stores resource policies without evaluating them (an explicit
Deny does not stop the owner). This module routes GetSecretValue, DescribeSecret and
GetResourcePolicy with a foreign ARN to the owner's backend after those checks, answers
AccessDeniedException with AWS's messages otherwise, and applies an explicit Deny to
same-account callers too.

The policy evaluation is plain functions (`Caller`, `evaluate_policy`, `secret_access_decision`)
so other behaviours can ask the same question, e.g. whether a Lambda role may read a secret.
Identity-based (IAM) policies of the caller are not evaluated: moto's users act as
administrators of their own account.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

ALLOW = "Allow"
DENY = "Deny"
NOT_APPLICABLE = "NotApplicable"

# The operations whose cross-account form the sandbox serves, with the IAM action each needs.
CROSS_ACCOUNT_OPERATIONS = {
    "get_secret_value": "secretsmanager:GetSecretValue",
    "describe_secret": "secretsmanager:DescribeSecret",
    "get_resource_policy": "secretsmanager:GetResourcePolicy",
}

AWS_MANAGED_SECRETS_KEY = "alias/aws/secretsmanager"
# AWS's own wording for the two KMS refusals.
DEFAULT_KEY_MESSAGE = (
    "You can't access a secret from a different AWS account if you encrypt the secret "
    "with the default KMS service key."
)
KMS_DENIED_MESSAGE = "Access to KMS is not allowed"

_SECRET_ARN = re.compile(r"^arn:(aws[\w-]*):secretsmanager:([\w-]+):(\d{12}):secret:.+$")
_ASSUMED_ROLE_ARN = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ROOT_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")


# --- who is calling -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """An authenticated principal: its account and its ARN as STS GetCallerIdentity reports it."""

    account_id: str
    arn: str
    # ARNs a policy may name for this principal besides `arn` (a session's role ARN).
    aliases: tuple[str, ...] = field(default=())

    @property
    def principal_arns(self) -> set[str]:
        return {self.arn, *self.aliases}

    @classmethod
    def for_role(cls, role_arn: str) -> "Caller":
        """The principal a service (e.g. Lambda) acts as when it assumes `role_arn`."""
        account = role_arn.split(":")[4]
        name = role_arn.rsplit("/", 1)[-1]
        session = f"arn:aws:sts::{account}:assumed-role/{name}/session"
        return cls(account_id=account, arn=session, aliases=(role_arn,))


def caller_from_access_key(access_key_id: str, region: str = "us-east-1") -> Caller:
    """Resolve a request's access key the way moto's STS GetCallerIdentity does."""
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key_id)
    _user_id, arn, account = sts_backends[account]["aws"].get_caller_identity(access_key_id, region)
    aliases: tuple[str, ...] = ()
    session = _ASSUMED_ROLE_ARN.match(arn)
    if session:
        partition, role_account, role_name = session.groups()
        role_arn = f"arn:{partition}:iam::{role_account}:role/{role_name}"
        try:  # the role's real ARN carries its path, which policies name
            role_arn = iam_backends[role_account]["aws"].get_role(role_name).arn
        except Exception:  # the role need not exist for moto to issue the session
            pass
        aliases = (role_arn,)
    return Caller(account_id=account, arn=arn, aliases=aliases)


# --- IAM policy evaluation (resource-based policies) --------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=512)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: * any run of characters, ? one character; everything else literal.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_wildcard(pattern, ignore_case).match(value))


def _principal_matches(block: Any, caller: Caller) -> bool:
    if block == "*":
        return True
    if not isinstance(block, dict):
        return False
    for principal in _as_list(block.get("AWS")):
        principal = str(principal)
        if principal == "*":
            return True
        if re.fullmatch(r"\d{12}", principal):
            principal = f"arn:aws:iam::{principal}:root"
        root = _ROOT_ARN.match(principal)
        # Naming an account (its root) names every principal of that account.
        if root and root.group(1) == caller.account_id:
            return True
        if principal in caller.principal_arns:
            return True
    return False


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, Any]) -> bool:
    op = operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if op.startswith(prefix):  # the keys used here are single-valued
            op = op[len(prefix):]
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    wanted_values = [str(v) for v in _as_list(wanted)]
    present = key.lower() in context
    if op == "Null":
        return (not present) == (wanted_values[0].lower() == "true")
    negated = "Not" in op
    if not present:
        # A missing key matches nothing; negated operators are then true, as are ...IfExists.
        return if_exists or negated
    actual = str(context[key.lower()])
    if op in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        hit = any((_like(w, actual) if op.startswith("Arn") else w == actual) for w in wanted_values)
    elif op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        hit = any(w.lower() == actual.lower() for w in wanted_values)
    elif op in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        hit = any(_like(w, actual) for w in wanted_values)
    elif op == "Bool":
        hit = any(w.lower() == actual.lower() for w in wanted_values)
        negated = False
    else:
        # An operator this sandbox does not know cannot be shown to hold.
        return False
    return not hit if negated else hit


def _conditions_hold(conditions: Any, context: dict[str, Any]) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return False
    for operator, pairs in conditions.items():
        if not isinstance(pairs, dict):
            return False
        for key, wanted in pairs.items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


def _statement_applies(stmt: dict[str, Any], caller: Caller, action: str, resource: str,
                       context: dict[str, Any]) -> bool:
    if "Principal" in stmt:
        if not _principal_matches(stmt["Principal"], caller):
            return False
    elif "NotPrincipal" in stmt:
        if _principal_matches(stmt["NotPrincipal"], caller):
            return False
    else:
        return False  # a resource-based policy statement must name its principals
    if "Action" in stmt:
        if not any(_like(str(a), action, ignore_case=True) for a in _as_list(stmt["Action"])):
            return False
    elif "NotAction" in stmt:
        if any(_like(str(a), action, ignore_case=True) for a in _as_list(stmt["NotAction"])):
            return False
    else:
        return False
    if "Resource" in stmt:
        if not any(_like(str(r), resource) for r in _as_list(stmt["Resource"])):
            return False
    elif "NotResource" in stmt:
        if any(_like(str(r), resource) for r in _as_list(stmt["NotResource"])):
            return False
    return _conditions_hold(stmt.get("Condition"), context)


def evaluate_policy(policy: str | dict[str, Any] | None, caller: Caller, action: str,
                    resource: str, context: dict[str, Any] | None = None) -> str:
    """Evaluate one resource-based policy for one request.

    Returns DENY if a matching statement denies, else ALLOW if one allows, else NOT_APPLICABLE.
    `context` holds extra condition keys (names are case-insensitive); aws:PrincipalAccount and
    aws:PrincipalArn are always present. A policy that is not valid JSON allows nothing.
    """
    if not policy:
        return NOT_APPLICABLE
    try:
        doc = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return NOT_APPLICABLE
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    ctx.setdefault("aws:principalaccount", caller.account_id)
    ctx.setdefault("aws:principalarn", (caller.aliases or (caller.arn,))[0])
    decision = NOT_APPLICABLE
    for stmt in _as_list(doc.get("Statement") if isinstance(doc, dict) else None):
        if not isinstance(stmt, dict) or not _statement_applies(stmt, caller, action, resource, ctx):
            continue
        if stmt.get("Effect") == DENY:
            return DENY
        if stmt.get("Effect") == ALLOW:
            decision = ALLOW
    return decision


# --- the secret read decision -------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    message: str = ""  # AccessDeniedException's message when not allowed
    owner_account: str = ""
    secret: Any = None


def _not_authorized(caller: Caller, action: str, arn: str, why: str) -> str:
    return f"User: {caller.arn} is not authorized to perform: {action} on resource: {arn} {why}"


def secret_owner(secret_id: str) -> str | None:
    """The account in a full or partial secret ARN, or None for a plain name."""
    match = _SECRET_ARN.match(secret_id or "")
    return match.group(3) if match else None


def _find_secret(account: str, region: str, secret_id: str) -> Any:
    from moto.secretsmanager.models import secretsmanager_backends

    if region not in secretsmanager_backends[account].keys():
        return None
    return secretsmanager_backends[account][region].secrets.get(secret_id)


def _kms_key_for(secret: Any, owner: str, region: str) -> Any:
    """The KMS key a secret is encrypted with, or None when it cannot be resolved."""
    from moto.kms.models import kms_backends

    ref = secret.kms_key_id
    account, key_region = owner, region
    if ref.startswith("arn:"):  # a key (or alias) ARN may live in another account
        parts = ref.split(":")
        key_region, account = parts[3], parts[4]
    try:
        kms = kms_backends[account][key_region]
        return kms.keys.get(kms.any_id_to_key_id(ref))
    except Exception:
        return None


def kms_decrypt_decision(caller: Caller, secret: Any, owner: str, region: str) -> Decision:
    """Whether `caller` may have Secrets Manager decrypt `secret` for it (cross-account rules)."""
    if (secret.kms_key_id or AWS_MANAGED_SECRETS_KEY).endswith(AWS_MANAGED_SECRETS_KEY):
        return Decision(False, DEFAULT_KEY_MESSAGE, owner, secret)
    key = _kms_key_for(secret, owner, region)
    if key is None:
        return Decision(False, KMS_DENIED_MESSAGE, owner, secret)
    # moto marks its default keys CUSTOMER; AWS managed keys are the ones aliased alias/aws/*.
    if key.key_manager == "AWS" or any(a.startswith("alias/aws/") for a in key.aliases):
        return Decision(False, DEFAULT_KEY_MESSAGE, owner, secret)
    context = {
        "kms:CallerAccount": caller.account_id,
        "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
        "kms:EncryptionContext:SecretARN": secret.arn,
    }
    if key.key_state != "Enabled":
        return Decision(False, KMS_DENIED_MESSAGE, owner, secret)
    if evaluate_policy(key.policy, caller, "kms:Decrypt", key.arn, context) != ALLOW:
        return Decision(False, KMS_DENIED_MESSAGE, owner, secret)
    return Decision(True, "", owner, secret)


def secret_access_decision(caller: Caller, secret_id: str, action: str = "secretsmanager:GetSecretValue",
                           region: str = "us-east-1") -> Decision:
    """May `caller` perform `action` on the secret `secret_id` (a name in the caller's account,
    or an ARN in any account)? Applies the resource policy (explicit Deny wins; another account
    needs an Allow) and, for GetSecretValue from another account, the KMS key rules.
    A secret that does not exist in the caller's own account is `allowed` here, so the service
    answers ResourceNotFoundException as AWS does; in another account it is denied."""
    owner = secret_owner(secret_id) or caller.account_id
    secret = _find_secret(owner, region, secret_id)
    cross_account = owner != caller.account_id
    if secret is None:
        if not cross_account:
            return Decision(True, "", owner, None)
        arn = secret_id
        return Decision(False, _not_authorized(
            caller, action, arn, f"because no resource-based policy allows the {action} action"),
            owner)
    verdict = evaluate_policy(secret.policy, caller, action, secret.arn)
    if verdict == DENY:
        return Decision(False, _not_authorized(
            caller, action, secret.arn, "with an explicit deny in a resource-based policy"),
            owner, secret)
    if not cross_account:
        return Decision(True, "", owner, secret)
    if verdict != ALLOW:
        return Decision(False, _not_authorized(
            caller, action, secret.arn,
            f"because no resource-based policy allows the {action} action"), owner, secret)
    if action == "secretsmanager:GetSecretValue":
        return kms_decrypt_decision(caller, secret, owner, region)
    return Decision(True, "", owner, secret)


# --- wiring into moto's Secrets Manager responses ----------------------------------------------


def _access_denied(message: str) -> Exception:
    from moto.secretsmanager.exceptions import SecretsManagerClientError

    return SecretsManagerClientError("AccessDeniedException", message)


def _serve_from_owner_account(original: Callable[[Any], str], action: str) -> Callable[[Any], str]:
    """Wrap a SecretsManagerResponse handler: decide access, then read from the owner's backend."""

    @functools.wraps(original)
    def handler(self: Any) -> str:
        secret_id = self._get_param("SecretId")
        caller = caller_from_access_key(self.get_access_key(), self.region)
        decision = secret_access_decision(caller, secret_id, action, self.region)
        if not decision.allowed:
            raise _access_denied(decision.message)
        # The response class picks its backend from current_account; point it at the owner.
        self.current_account = decision.owner_account
        return original(self)

    handler.__xwizard_patch__ = True  # type: ignore[attr-defined]
    return handler


def install(_ctx: Any) -> None:
    from moto.secretsmanager.responses import SecretsManagerResponse

    for method, action in CROSS_ACCOUNT_OPERATIONS.items():
        original = getattr(SecretsManagerResponse, method)
        if getattr(original, "__xwizard_patch__", False):
            continue  # installed twice in one process (tests): keep one layer
        setattr(SecretsManagerResponse, method, _serve_from_owner_account(original, action))
