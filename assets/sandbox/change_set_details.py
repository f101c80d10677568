"""What DescribeChangeSet tells of each change, as AWS tells it.

moto's change sets list each change's Action, LogicalResourceId and ResourceType only. AWS
also gives, for every change:

- `PhysicalResourceId` of a resource that exists (Modify, Remove);
- for a Modify, `Replacement` (True, False or Conditional), `Scope` and `Details`: one
  `ResourceChangeDetail` per property that changes, with `Target.Attribute` (Properties),
  `Target.Name`, `Target.RequiresRecreation` (Never, Conditionally, Always: whether changing that
  property re-creates the resource), `Evaluation`, `ChangeSource` (DirectModification when the
  template's value changed, ParameterReference when a parameter it refers to did) and
  `CausingEntity` (that parameter's name);
- with `IncludePropertyValues=true`: no `StatusReason` for a failed change set (an AWS quirk
  clients must live with: "no changes" is told only by asking without them); and
  `BeforeContext` and `AfterContext`, JSON strings of the
  form `{"Properties": {...}}` holding the resolved properties before the change (Modify,
  Remove) and after it (Add, Modify), and each detail's `Target.Path`, `BeforeValue`,
  `AfterValue` and `AttributeChangeType`. A value only the deployment decides (the id of a
  resource not made yet, an attribute of one being changed) reads
  `{{changeSet:KNOWN_AFTER_APPLY}}`, as on AWS.

Computed when the change set is made, from the stack as it stands then, as AWS does. The
changes themselves are decided as the update that runs them decides (moto lists a resource its
Condition leaves out, and misses one whose only change is a parameter it refers to).

Whether a property re-creates its resource comes from the `createOnlyProperties` of the
CloudFormation resource type schemas, which cfn-lint (a dependency of moto's server) ships: a
create-only property re-creates Always, one holding create-only parts Conditionally.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import sys
import traceback
from typing import Any, Callable

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.parsing import ResourceMap
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

import async_cloudformation
import cfn_intrinsics

KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


@functools.cache
def _create_only_paths() -> dict[str, tuple[str, ...]]:
    """Each resource type's `createOnlyProperties` (`/properties/CidrBlock`, …), as the
    CloudFormation resource type schemas state them; cfn-lint, which moto's server brings,
    ships those schemas."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cfn-lint (a dependency of moto[server]) is not installed")
    folder = os.path.join(list(spec.submodule_search_locations)[0], "data", "schemas", "resources")
    out: dict[str, tuple[str, ...]] = {}
    for name in os.listdir(folder):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            schema = json.load(f)
        if isinstance(schema, dict) and schema.get("typeName"):
            out[schema["typeName"]] = tuple(schema.get("createOnlyProperties") or ())
    return out


class _Unknown:
    """A value only the deployment decides; it makes every value built from it unknown."""


UNKNOWN = _Unknown()
_NO_VALUE = object()


def requires_recreation(resource_type: str, prop: str) -> str:
    """Always when the property is create-only; Conditionally when only some of what it holds
    is (a change elsewhere in it updates in place); Never otherwise."""
    paths = _create_only_paths().get(resource_type, ())
    if f"/properties/{prop}" in paths:
        return "Always"
    if any(p.startswith(f"/properties/{prop}/") for p in paths):
        return "Conditionally"
    return "Never"


class Resolver:
    """Resolves a template's intrinsic functions as far as can be known before it is applied."""

    def __init__(self, *, params: dict[str, Any], conditions: Any, mappings: dict[str, Any],
                 pseudo: dict[str, Any], physical_ids: dict[str, str],
                 attribute: Callable[[str, str], Any], exports: dict[str, Any]):
        self.params = params
        self.conditions = conditions
        self.mappings = mappings
        self.pseudo = pseudo
        self.physical_ids = physical_ids
        self.attribute = attribute
        self.exports = exports

    def properties(self, resource_json: dict[str, Any]) -> dict[str, Any]:
        resolved = self.resolve(resource_json.get("Properties") or {})
        return _shown(resolved) if isinstance(resolved, dict) else {}

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(n) for n in node]
            return [i for i in items if i is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key.startswith("Fn::"):
                try:
                    return self._function(key, arg)
                except (KeyError, IndexError, TypeError, ValueError):
                    return UNKNOWN
        out = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not _NO_VALUE:
                out[key] = resolved
        return out

    def _ref(self, name: Any) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        return self.physical_ids.get(name, UNKNOWN)

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            logical, attr = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.attribute(logical, self.resolve(attr))
        if key == "Fn::If":
            condition, yes, no = arg
            return self.resolve(yes if self.conditions[condition] else no)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::ImportValue":
            name = self.resolve(arg)
            return UNKNOWN if name is UNKNOWN else self.exports.get(name, UNKNOWN)
        if key == "Fn::FindInMap":
            m, top, second = (self.resolve(a) for a in arg)
            if UNKNOWN in (m, top, second):
                return UNKNOWN
            return self.mappings[m][top][second]
        args = self.resolve(arg)
        if _has_unknown(args):
            return UNKNOWN
        if key == "Fn::Join":
            delimiter, items = args
            return delimiter.join(str(i) for i in items)
        if key == "Fn::Select":
            index, items = args
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = args
            return text.split(delimiter)
        if key == "Fn::GetAZs":
            region = args or self.pseudo["AWS::Region"]
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::Base64":
            import base64
            return base64.b64encode(str(args).encode()).decode()
        if key == "Fn::Cidr":
            return cfn_intrinsics.cidr(*args)
        if key == "Fn::ToJsonString":
            return json.dumps(args, separators=(",", ":"))
        return UNKNOWN

    def _sub(self, arg: Any) -> Any:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        values = {k: self.resolve(v) for k, v in (variables or {}).items()}
        unknown = False

        def one(match: re.Match) -> str:
            nonlocal unknown
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                value = values[name]
            elif "." in name and name not in self.pseudo:
                logical, attr = name.split(".", 1)
                value = self.attribute(logical, attr)
            else:
                value = self._ref(name)
            if _has_unknown(value) or value is _NO_VALUE:
                unknown = True
                return ""
            return str(value)

        result = re.sub(r"\$\{([^}]+)\}", one, text)
        return UNKNOWN if unknown else result


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _shown(value: Any) -> Any:
    """Unknown values as AWS shows them."""
    if value is UNKNOWN:
        return KNOWN_AFTER_APPLY
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    return value


def _pseudo(account_id: str, region: str, stack: Any) -> dict[str, Any]:
    return {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack.name,
        "AWS::StackId": stack.stack_id,
        "AWS::NotificationARNs": [],
    }


def _exports(backend: CloudFormationBackend) -> dict[str, Any]:
    return {name: export.value for name, export in backend.exports.items()}


def _live_attribute(records: dict[str, Any], unknown: set[str]) -> Callable[[str, str], Any]:
    def attribute(logical: str, attr: Any) -> Any:
        record = records.get(logical)
        if logical in unknown or record is None or record.instance is None or not isinstance(attr, str):
            return UNKNOWN
        try:
            return record.instance.get_cfn_attribute(attr)
        except Exception:
            return UNKNOWN

    return attribute


def _resource_changes(backend: CloudFormationBackend, change_set: Any) -> list[dict[str, Any]]:
    """Each change's ResourceChange, with `_context` entries for IncludePropertyValues."""
    stack = change_set.stack
    template = change_set.template_dict or {}
    new_resources = template.get("Resources") or {}
    run = async_cloudformation._managed_run(stack)
    with async_cloudformation._lock:
        records = dict(run.records) if run is not None else {}
    live = {lid: rec for lid, rec in records.items() if rec.instance is not None}
    scratch = ResourceMap(
        stack.stack_id, stack.name, change_set.parameters, stack.tags or {},
        region_name=backend.region_name, account_id=backend.account_id, template=template,
        cross_stack_resources=backend.exports,
    )
    scratch.load()
    new_params = scratch.resolved_parameters
    old_params = dict(run.resource_map.resolved_parameters) if run is not None and live else {}
    changed_params = {k for k, v in new_params.items() if old_params.get(k) != v}

    actions = _actions(scratch, template, live, changed_params)
    modified = {lid for action, lid in actions if action == "Modify"}
    details: dict[str, list[dict[str, Any]]] = {}
    for lid in modified:
        details[lid] = _details(live[lid].resource_json if lid in live else {},
                                new_resources.get(lid, {}), changed_params)
    recreation = {lid: {d["Target"].get("RequiresRecreation") for d in ds} for lid, ds in details.items()}
    replaced = {lid for lid, r in recreation.items() if "Always" in r}
    maybe_replaced = {lid for lid, r in recreation.items() if "Conditionally" in r} - replaced

    pseudo = _pseudo(backend.account_id, backend.region_name, stack)
    exports = _exports(backend)
    after = Resolver(
        params=new_params, conditions=scratch.lazy_condition_map,
        mappings=template.get("Mappings") or {}, pseudo=pseudo,
        # A resource to be made or re-created has no id yet; one changed in place keeps it.
        physical_ids={lid: rec.physical_id for lid, rec in live.items() if lid not in replaced},
        attribute=_live_attribute(live, replaced | modified), exports=exports,
    )
    before = None
    if run is not None and live:
        before = Resolver(
            params=old_params, conditions=run.resource_map.lazy_condition_map,
            mappings=(stack.template_dict or {}).get("Mappings") or {}, pseudo=pseudo,
            physical_ids={lid: rec.physical_id for lid, rec in live.items()},
            attribute=_live_attribute(live, set()), exports=exports,
        )

    out = []
    for action, lid in actions:
        resource_type = (new_resources.get(lid) or live[lid].resource_json).get("Type", "")
        rc: dict[str, Any] = {
            "Action": action,
            "LogicalResourceId": lid,
            "ResourceType": resource_type,
            "Scope": [],
            "Details": [],
        }
        if lid in live and action in ("Modify", "Remove"):
            rc["PhysicalResourceId"] = live[lid].physical_id
        before_props = after_props = None
        if action in ("Modify", "Remove") and before is not None and lid in live:
            before_props = before.properties(live[lid].resource_json)
        if action in ("Add", "Modify") and lid in new_resources:
            after_props = after.properties(new_resources[lid])
        if action == "Modify":
            ds = details.get(lid, [])
            rc["Replacement"] = (
                "True" if lid in replaced else "Conditional" if lid in maybe_replaced else "False"
            )
            rc["Scope"] = ["Properties"] if ds else []
            rc["Details"] = ds
            rc["_values"] = (before_props or {}, after_props or {})
        rc["_context"] = {}
        if before_props is not None:
            rc["_context"]["BeforeContext"] = json.dumps({"Properties": before_props})
        if after_props is not None:
            rc["_context"]["AfterContext"] = json.dumps({"Properties": after_props})
        out.append(rc)
    return out


def _actions(scratch: ResourceMap, template: dict[str, Any], live: dict[str, Any],
             changed_params: set[str]) -> list[tuple[str, str]]:
    """(action, logical id) of each change, decided as the update that runs them decides: a
    resource its Condition leaves out is not made (and goes, if it was), and one whose template
    is the same changes when a parameter it refers to does."""
    resources = template.get("Resources") or {}
    wanted = async_cloudformation._resources_to_make(scratch, template)
    out = []
    for lid in wanted:
        if lid not in live:
            out.append(("Add", lid))
        elif resources[lid] != live[lid].resource_json or \
                changed_params & set(parsing.get_references_from_template(resources[lid])):
            out.append(("Modify", lid))
    out.extend(("Remove", lid) for lid in live if lid not in wanted)
    return out


def _details(old_json: dict[str, Any], new_json: dict[str, Any], changed_params: set[str]) -> list[dict[str, Any]]:
    """One detail per property whose template value changed, and one per changed parameter a
    property refers to."""
    resource_type = new_json.get("Type") or old_json.get("Type") or ""
    old = old_json.get("Properties") or {}
    new = new_json.get("Properties") or {}
    out = []

    def detail(name: str, source: str, entity: str | None) -> dict[str, Any]:
        d = {
            "Target": {
                "Attribute": "Properties",
                "Name": name,
                "RequiresRecreation": requires_recreation(resource_type, name),
            },
            "Evaluation": "Static",
            "ChangeSource": source,
        }
        if entity:
            d["CausingEntity"] = entity
        return d

    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            out.append(detail(name, "DirectModification", None))
        for param in sorted(changed_params & _refs(new.get(name))):
            out.append(detail(name, "ParameterReference", param))
    return out


def _refs(node: Any) -> set[str]:
    """Names a value refers to with Ref or inside Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for n in node:
            found |= _refs(n)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m for m in re.findall(r"\$\{([^}.!]+)\}", str(text))}
                if not isinstance(value, str):
                    found |= _refs(value[1:])
            else:
                found |= _refs(value)
    return found


def _with_values(rc: dict[str, Any], include: bool) -> dict[str, Any]:
    shown = {k: v for k, v in rc.items() if not k.startswith("_")}
    if not include:
        return shown
    shown.update(rc["_context"])
    if "_values" in rc:
        before, after = rc["_values"]
        details = []
        for d in rc["Details"]:
            name = d["Target"]["Name"]
            target = dict(d["Target"], Path=f"/Properties/{name}")
            if name in before:
                target["BeforeValue"] = _as_text(before[name])
            if name in after:
                target["AfterValue"] = _as_text(after[name])
            target["AttributeChangeType"] = (
                "Add" if name not in before else "Remove" if name not in after else "Modify"
            )
            details.append(dict(d, Target=target))
        shown["Details"] = details
    return shown


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class _ChangeSetView:
    """A change set as one DescribeChangeSet call shows it."""

    def __init__(self, change_set: Any, include: bool):
        self._change_set = change_set
        rcs = getattr(change_set, "sandbox_resource_changes", None)
        self.changes = change_set.changes if rcs is None else [_with_values(rc, include) for rc in rcs]
        if include and change_set.status == "FAILED":
            # AWS leaves a failed change set's reason out of an answer with property values.
            self.status_reason = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._change_set, name)


def _remembering_details(original: Callable) -> Callable:
    def create_change_set(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> tuple[str, str]:
        change_set_id, stack_id = original(self, *args, **kwargs)
        change_set = self.change_sets.get(change_set_id)
        if change_set is not None and change_set.status == "CREATE_COMPLETE":
            try:
                change_set.sandbox_resource_changes = _resource_changes(self, change_set)
            except Exception:
                # The change set stands as moto made it; say why it lacks the details.
                print("change set details could not be computed:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
        return change_set_id, stack_id

    return create_change_set


def _describing_details(original: Callable) -> Callable:
    def handler(self: CloudFormationResponse) -> Any:
        change_set = self.cloudformation_backend.describe_change_set(
            change_set_name=self._get_param("ChangeSetName")
        )
        include = self._get_bool_param("IncludePropertyValues", False)
        if change_set is None or not (include or hasattr(change_set, "sandbox_resource_changes")):
            return original(self)
        return ActionResult(_ChangeSetView(change_set, include))

    return handler


def install(ctx: Any) -> None:
    # After async_cloudformation: this wraps its CreateChangeSet.
    CloudFormationBackend.create_change_set = _remembering_details(  # type: ignore[assignment]
        CloudFormationBackend.create_change_set)
    CloudFormationResponse.describe_change_set = _describing_details(
        CloudFormationResponse.describe_change_set)
