"""Asynchronous CloudFormation: stacks that take time, emit per-resource events and roll back.

moto's CloudFormation is synchronous: CreateStack returns CREATE_COMPLETE, there are no
per-resource events, a failing resource makes the API call itself fail, unknown resource
types are skipped silently and change sets lose their outputs. xwizard watches stacks the way
it must against AWS (poll DescribeStacks / DescribeStackEvents, report the failing resource and
its reason), so this module makes moto's stacks behave like AWS's:

- CreateStack, ExecuteChangeSet (CREATE and UPDATE), UpdateStack and DeleteStack return at once
  with the stack *_IN_PROGRESS; a worker thread per operation then creates, updates or deletes
  resources ONE AT A TIME in dependency order (Ref, Fn::GetAtt, Fn::Sub, DependsOn; both Fn::If
  branches count), each staying IN_PROGRESS for at least the sandbox pace.
- Every resource gets AWS-shaped events (IN_PROGRESS, IN_PROGRESS "Resource creation Initiated",
  then COMPLETE or FAILED); DescribeStackResources / ListStackResources show live statuses.
- A failing resource (moto error, injected fault, or a type moto cannot emulate) gives
  CREATE_FAILED with the cause, then ROLLBACK_* (or UPDATE_ROLLBACK_*), unless rollback is
  disabled.
- Outputs and exports are rebuilt after every successful operation and shown only then;
  deleting a stack whose export is imported elsewhere is refused the way AWS refuses it.

moto stays the resource engine: resources are made through its ResourceMap (so every
`create_from_cloudformation_json`, including types other sandbox modules register, works),
this module only decides when, in which order and with which events.

Other modules: a resource type counts as emulated when moto's `get_model_map()` knows it, when
it is `Custom::*` or one of moto's ignored wait-condition types, or when a module declared it
with `declare_emulated_type(...)`. Anything else fails the stack instead of passing silently.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import (
    AlreadyExistsException,
    CloudFormationError,
    ValidationError,
)
from moto.cloudformation.models import (
    ChangeSet,
    CloudFormationBackend,
    Event,
    Stack,
    cloudformation_backends,
)
from moto.cloudformation.parsing import Export, OutputMap, ResourceMap
from moto.cloudformation.utils import generate_changeset_id, validate_create_change_set
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

import control_api
import fault_injection

# Types AWS takes minutes over; they stay IN_PROGRESS for the "slow" pace.
SLOW_TYPES = frozenset(
    {
        "AWS::EC2::NatGateway",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::VPCEndpointService",
        "AWS::CertificateManager::Certificate",
        "AWS::EC2::Instance",
        "AWS::ApiGateway::DomainName",
    }
)

IN_PROGRESS_STATES = frozenset(
    {
        "CREATE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "DELETE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    }
)
# Statuses after which a stack's outputs are final and shown.
_SETTLED_WITH_OUTPUTS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})

_pace: dict[str, float] = {"default": 0.0, "slow": 0.0}
_extra_emulated_types: set[str] = set()

# Guards _runs and every ResourceRecord; held only for short bookkeeping, never while waiting.
_lock = threading.RLock()
_runs: dict[str, "StackRun"] = {}
# Held by workers while they change moto's backends, and by moto's reset, so that a reset
# never interleaves with a half-made resource. Re-entrant for nested stacks.
_moto_gate = threading.RLock()
# Request parameters moto's response handlers drop (DisableRollback, OnFailure, token).
_request = threading.local()
# Set in worker threads: a nested AWS::CloudFormation::Stack is then run inline.
_worker = threading.local()


def declare_emulated_type(resource_type: str) -> None:
    """For modules that emulate a resource type outside moto's model map."""
    _extra_emulated_types.add(resource_type)


def is_emulated_type(resource_type: str) -> bool:
    if resource_type.startswith("Custom::") or resource_type in parsing.NULL_MODELS:
        return True
    # Asked each time: other modules may register types after this one is installed.
    return resource_type in parsing.get_model_map() or resource_type in _extra_emulated_types


# --- state --------------------------------------------------------------------------------


@dataclass
class ResourceRecord:
    """What DescribeStackResources shows for one logical resource."""

    logical_id: str
    resource_type: str
    resource_json: dict[str, Any]
    status: str = ""
    reason: str | None = None
    physical_id: str = ""
    timestamp: Any = None
    instance: Any = None  # the moto model once made


@dataclass
class StackRun:
    """Everything this module knows about one stack beyond moto's Stack object."""

    stack: Stack
    account_id: str
    region: str
    records: dict[str, ResourceRecord] = field(default_factory=dict)
    outputs: list[dict[str, Any]] | None = None
    exports: list[Export] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    token: str | None = None
    disable_rollback: bool = False
    on_failure: str = "ROLLBACK"
    change_set: Any = None
    delete_pending: bool = False
    # Operations started and not yet finished (queued ones included).
    busy: int = 0
    # One operation at a time per stack, as in AWS; a DeleteStack queues behind a create.
    op_lock: threading.Lock = field(default_factory=threading.Lock)
    # Set to end pace waits early: DeleteStack cancelling a create, or a sandbox reset.
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def resource_map(self) -> ResourceMap:
        return self.stack.resource_map

    @property
    def backend(self) -> CloudFormationBackend:
        return cloudformation_backends[self.account_id][self.region]


class ResourceFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OperationStopped(Exception):
    """The stack was reset away or its creation cancelled by DeleteStack."""


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatus"


def _run_for(stack: Stack) -> StackRun:
    with _lock:
        run = _runs.get(stack.stack_id)
        if run is None or run.stack is not stack:
            run = StackRun(stack=stack, account_id=stack.account_id, region=stack.region_name)
            _runs[stack.stack_id] = run
        return run


def _managed_run(stack: Stack) -> StackRun | None:
    with _lock:
        run = _runs.get(stack.stack_id)
        return run if run is not None and run.stack is stack else None


def _still_current(run: StackRun) -> bool:
    # After a reset moto's backend no longer holds this Stack object.
    return run.backend.stacks.get(run.stack.stack_id) is run.stack


# --- events and statuses ------------------------------------------------------------------


def _append_event(run: StackRun, event: Event) -> None:
    event.client_request_token = run.token
    with _lock:
        run.stack.events.append(event)
    if run.stack.notification_arns:
        try:
            event.sendToSns(run.account_id, run.region, run.stack.notification_arns)
        except Exception:  # a missing topic must not break the stack operation
            pass


def _set_stack_status(run: StackRun, status: str, reason: str | None = None) -> None:
    """The stack-level event AWS records on every status change; the status follows it."""
    stack = run.stack
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=stack.name,
        physical_resource_id=stack.stack_id,
        resource_type="AWS::CloudFormation::Stack",
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    with _lock:
        stack.status = status
        if reason is not None or status.endswith("_IN_PROGRESS"):
            stack.stack_status_reason = None if reason == "User Initiated" else reason
    _append_event(run, event)


def _resource_event(run: StackRun, record: ResourceRecord, status: str, reason: str | None = None) -> None:
    event = Event(
        stack_id=run.stack.stack_id,
        stack_name=run.stack.name,
        logical_resource_id=record.logical_id,
        physical_resource_id=record.physical_id,
        resource_type=record.resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    with _lock:
        record.status = status
        record.reason = reason
        record.timestamp = event.timestamp
    _append_event(run, event)


def _wait_for_pace(run: StackRun, resource_type: str, started: float) -> None:
    floor = _pace["slow" if resource_type in SLOW_TYPES else "default"]
    remaining = floor - (time.monotonic() - started)
    if remaining > 0:
        run.stop.wait(remaining)


# --- dependency order ---------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(node: Any, found: set[str]) -> None:
    """Every name a template fragment refers to, through all Fn::If branches."""
    if isinstance(node, list):
        for item in node:
            _references(item, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            target = value[0] if isinstance(value, list) else str(value).split(".")[0]
            if isinstance(target, str):
                found.add(target)
            _references(value, found)
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1] if len(value) > 1 else {})
            if isinstance(text, str):
                for name in _SUB_VARIABLE.findall(text):
                    head = name.split(".")[0].strip()
                    if head not in variables:
                        found.add(head)
            _references(variables, found)
        else:
            _references(value, found)


def _dependencies(resource_json: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    _references(resource_json.get("Properties", {}), found)
    _references(resource_json.get("Metadata", {}), found)
    depends_on = resource_json.get("DependsOn", [])
    found.update([depends_on] if isinstance(depends_on, str) else depends_on)
    return found


def _resources_to_make(resource_map: ResourceMap, template: dict[str, Any]) -> list[str]:
    """Logical ids whose Condition holds, in template order."""
    names = []
    for logical_id, resource_json in (template.get("Resources") or {}).items():
        condition = resource_json.get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            continue
        names.append(logical_id)
    return names


def _creation_order(resource_map: ResourceMap, template: dict[str, Any]) -> list[str]:
    """Dependency order, template order among equals; raises AWS's template errors."""
    resources = template.get("Resources") or {}
    wanted = _resources_to_make(resource_map, template)
    parameters = set((template.get("Parameters") or {}).keys())
    deps: dict[str, set[str]] = {}
    for logical_id in wanted:
        refs = _dependencies(resources[logical_id])
        depends_on = resources[logical_id].get("DependsOn", [])
        depends_on = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        unresolved = sorted(
            r for r in refs
            if (r not in resources and r not in parameters and not r.startswith("AWS::"))
            # AWS will not wait on a resource its Condition leaves out: DependsOn naming one
            # fails the template, which is why templates reach them through an Fn::If.
            or (r in depends_on and r in resources and r not in wanted)
        )
        if unresolved:
            raise ValidationError(
                message="Template format error: Unresolved resource dependencies "
                f"[{', '.join(unresolved)}] in the Resources block of the template"
            )
        # A reference to a resource whose Condition is false creates nothing to wait for.
        deps[logical_id] = {r for r in refs if r in resources and r != logical_id and r in wanted}
    order: list[str] = []
    done: set[str] = set()
    pending = list(wanted)
    while pending:
        ready = next((name for name in pending if deps[name] <= done), None)
        if ready is None:
            raise ValidationError(
                message=f"Circular dependency between resources: [{', '.join(sorted(pending))}]"
            )
        order.append(ready)
        done.add(ready)
        pending.remove(ready)
    return order


# --- failure reasons, as AWS words them ---------------------------------------------------

_SERVICE_LABELS = {
    "EC2": "Ec2",
    "IAM": "Iam",
    "KMS": "Kms",
    "Logs": "CloudWatchLogs",
    "CertificateManager": "Acm",
    "ACMPCA": "AcmPca",
    "SQS": "Sqs",
    "SNS": "Sns",
    "DynamoDB": "DynamoDb",
}


def _handler_error_code(error_code: str) -> str:
    lowered = error_code.lower()
    if "notfound" in lowered or "nosuch" in lowered:
        return "NotFound"
    if "alreadyexists" in lowered or "duplicate" in lowered or "conflict" in lowered:
        return "AlreadyExists"
    if "limit" in lowered or "quota" in lowered:
        return "ServiceLimitExceeded"
    if "throttl" in lowered or "requestlimitexceeded" in lowered:
        return "Throttling"
    if "accessdenied" in lowered or "unauthorized" in lowered:
        return "AccessDenied"
    return "InvalidRequest"


def _service_error_parts(error: Exception) -> tuple[str, str, int] | None:
    """(error code, message, HTTP status) of a moto service error, or None."""
    error_type = getattr(error, "error_type", None)  # moto's RESTError family
    if isinstance(error_type, str) and error_type:
        status = getattr(error, "code", 400)
        return error_type, getattr(error, "message", str(error)), status if isinstance(status, int) else 400
    code = getattr(error, "code", None)  # moto's ServiceException family
    if isinstance(code, str) and hasattr(error, "message"):
        return code, str(error.message), 400
    return None


def _failure_reason(error: Exception, logical_id: str, resource_type: str) -> str:
    """AWS's resource-handler wording for what moto raised while making a resource."""
    parts = _service_error_parts(error)
    if parts is not None:
        code, message, status = parts
        segment = resource_type.split("::")[1] if resource_type.count("::") >= 2 else resource_type
        service = _SERVICE_LABELS.get(segment, segment)
        return (
            f'Resource handler returned message: "{message} (Service: {service}, '
            f'Status Code: {status}, Request ID: {uuid.uuid4()})" '
            f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: {_handler_error_code(code)})"
        )
    if isinstance(error, KeyError):
        # moto indexes required properties directly; AWS reports the schema violation.
        return (
            f"Properties validation failed for resource {logical_id} with message: "
            f"#: required key [{error.args[0] if error.args else ''}] not found"
        )
    return (
        f'Resource handler returned message: "{type(error).__name__}: {error}" '
        f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: InternalFailure)"
    )


# --- one resource at a time ---------------------------------------------------------------


def _record(run: StackRun, logical_id: str, resource_json: dict[str, Any]) -> ResourceRecord:
    with _lock:
        record = run.records.get(logical_id)
        if record is None:
            record = ResourceRecord(logical_id, resource_json["Type"], resource_json)
            run.records[logical_id] = record
        record.resource_type = resource_json["Type"]
        record.resource_json = resource_json
        return record


def _physical_id(run: StackRun, logical_id: str, instance: Any) -> str:
    physical = getattr(instance, "physical_resource_id", None)
    if physical:
        return str(physical)
    # Wait-condition handles and similar have nothing in moto; AWS shows a generated name.
    return f"{run.stack.name}-{logical_id}-{uuid.uuid4().hex[:12].upper()}"


def _tag_ec2_resource(run: StackRun, logical_id: str, instance: Any) -> None:
    # moto's ResourceMap.create tags EC2 resources the way CloudFormation does; keep that.
    from moto.ec2 import models as ec2_models
    from moto.ec2.models.core import TaggedEC2Resource

    if isinstance(instance, TaggedEC2Resource):
        tags = dict(run.resource_map.tags, **{"aws:cloudformation:logical-id": logical_id})
        ec2_models.ec2_backends[run.account_id][run.region].create_tags(
            [instance.physical_resource_id], tags
        )


def _make_with_moto(run: StackRun, logical_id: str) -> Any:
    with _moto_gate:
        if not _still_current(run) or run.stop.is_set():
            raise OperationStopped()
        instance = run.resource_map[logical_id]
        _tag_ec2_resource(run, logical_id, instance)
        return instance


def _refuse_before_making(run: StackRun, logical_id: str, resource_type: str, check_faults: bool) -> None:
    """An injected fault, or a type the sandbox cannot make, fails the resource as AWS would."""
    injected = fault_injection.failure_for(run.stack.name, logical_id) if check_faults else None
    if injected:
        raise ResourceFailed(injected)
    if not is_emulated_type(resource_type):
        raise ResourceFailed(f"The xwizard sandbox does not emulate resource type {resource_type}")


def _create_resource(run: StackRun, logical_id: str, check_faults: bool = True) -> ResourceRecord:
    resource_json = run.resource_map._resource_json_map[logical_id]
    record = _record(run, logical_id, resource_json)
    record.physical_id, record.instance = "", None
    _resource_event(run, record, "CREATE_IN_PROGRESS")
    started = time.monotonic()  # after the event: its timestamp starts the pace
    try:
        _refuse_before_making(run, logical_id, record.resource_type, check_faults)
        try:
            instance = _make_with_moto(run, logical_id)
        except (OperationStopped, ResourceFailed):
            raise
        except Exception as error:  # moto's own error is the cause AWS would report
            raise ResourceFailed(_failure_reason(error, logical_id, record.resource_type)) from error
        record.instance = instance
        record.physical_id = _physical_id(run, logical_id, instance)
        _resource_event(run, record, "CREATE_IN_PROGRESS", "Resource creation Initiated")
        # A held stack keeps this resource CREATE_IN_PROGRESS, as a slow resource would.
        fault_injection.wait_while_held(run.stack.name)
        _wait_for_pace(run, record.resource_type, started)
        _resource_event(run, record, "CREATE_COMPLETE")
        return record
    except ResourceFailed as failure:
        _wait_for_pace(run, record.resource_type, started)
        _resource_event(run, record, "CREATE_FAILED", failure.reason)
        raise


def _update_resource(run: StackRun, logical_id: str, check_faults: bool = True) -> None:
    resource_json = run.resource_map._resource_json_map[logical_id]
    record = _record(run, logical_id, resource_json)
    _resource_event(run, record, "UPDATE_IN_PROGRESS")
    started = time.monotonic()  # after the event: its timestamp starts the pace
    try:
        _refuse_before_making(run, logical_id, record.resource_type, check_faults)
        try:
            with _moto_gate:
                if not _still_current(run):
                    raise OperationStopped()
                updated = parsing.parse_and_update_resource(
                    logical_id, resource_json, run.resource_map, run.account_id, run.region
                )
                # moto returns None for types without an update handler: keep the resource.
                if updated is not None:
                    run.resource_map._parsed_resources[logical_id] = updated
                    record.instance = updated
                    record.physical_id = _physical_id(run, logical_id, updated)
        except (OperationStopped, ResourceFailed):
            raise
        except Exception as error:
            raise ResourceFailed(_failure_reason(error, logical_id, record.resource_type)) from error
        _wait_for_pace(run, record.resource_type, started)
        _resource_event(run, record, "UPDATE_COMPLETE")
    except ResourceFailed as failure:
        _wait_for_pace(run, record.resource_type, started)
        _resource_event(run, record, "UPDATE_FAILED", failure.reason)
        raise


def _delete_resource(run: StackRun, record: ResourceRecord) -> bool:
    """DELETE_IN_PROGRESS then DELETE_COMPLETE (or _FAILED); True when it is gone."""
    if record.instance is None:
        # Never made (its creation failed): AWS just marks it deleted.
        _resource_event(run, record, "DELETE_COMPLETE")
        return True
    if record.resource_json.get("DeletionPolicy") == "Retain":
        _resource_event(run, record, "DELETE_SKIPPED")
        return True
    _resource_event(run, record, "DELETE_IN_PROGRESS")
    started = time.monotonic()  # after the event: its timestamp starts the pace
    injected = fault_injection.failure_for(run.stack.name, record.logical_id, on="delete")
    if injected is not None:
        _wait_for_pace(run, record.resource_type, started)
        _resource_event(run, record, "DELETE_FAILED", injected)
        return False
    try:
        with _moto_gate:
            if not _still_current(run):
                raise OperationStopped()
            run.resource_map._delete_resource(record.instance, record.resource_json)
            if run.resource_map._parsed_resources.get(record.logical_id) is record.instance:
                run.resource_map._parsed_resources.pop(record.logical_id, None)
    except OperationStopped:
        raise
    except Exception as error:
        _wait_for_pace(run, record.resource_type, started)
        _resource_event(run, record, "DELETE_FAILED", _failure_reason(error, record.logical_id, record.resource_type))
        return False
    record.instance = None
    _wait_for_pace(run, record.resource_type, started)
    _resource_event(run, record, "DELETE_COMPLETE")
    return True


def _delete_in_reverse(run: StackRun, logical_ids: Iterable[str]) -> list[str]:
    """Delete the given resources one at a time; returns those that failed to delete."""
    failed = []
    for logical_id in logical_ids:
        record = run.records.get(logical_id)
        if record is None or record.status in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
            continue
        fault_injection.wait_while_held(run.stack.name)
        if not _delete_resource(run, record):
            failed.append(logical_id)
    return failed


def _reverse_dependency_order(run: StackRun) -> list[str]:
    """Live resources, dependants first."""
    with _lock:
        live = [lid for lid, rec in run.records.items() if rec.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED")]
    try:
        order = _creation_order(run.resource_map, run.stack.template_dict)
    except Exception:
        order = []
    ranked = [lid for lid in order if lid in live] + [lid for lid in live if lid not in order]
    return list(reversed(ranked))


# --- outputs, exports, imports ------------------------------------------------------------


def _imports_of(resource_map: ResourceMap, template: dict[str, Any]) -> set[str]:
    """Export names a template imports; their arguments may not depend on resources."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::ImportValue":
                    try:
                        names.add(str(parsing.clean_json(value, resource_map)))
                    except Exception:
                        pass
                else:
                    walk(value)

    walk(template.get("Resources") or {})
    walk(template.get("Outputs") or {})
    return names


def _missing_import(run: StackRun) -> str | None:
    for name in sorted(run.imports):
        if name not in run.backend.exports:
            return name
    return None


def _stacks_importing(run: StackRun, export_name: str) -> list[str]:
    with _lock:
        others = list(_runs.values())
    return sorted(
        other.stack.name
        for other in others
        if other is not run
        and other.account_id == run.account_id
        and other.region == run.region
        and export_name in other.imports
        and other.stack.status not in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS")
        and other.backend.stacks.get(other.stack.stack_id) is other.stack
    )


def _in_use_by(stack_names: list[str]) -> str:
    return stack_names[0] if len(stack_names) == 1 else ", ".join(stack_names[:-1]) + " and " + stack_names[-1]


def _export_in_use(run: StackRun) -> str | None:
    """AWS's refusal when a stack to delete exports something another stack imports."""
    for export in run.exports:
        importers = _stacks_importing(run, export.name)
        if importers:
            return f"Export {export.name} cannot be deleted as it is in use by {_in_use_by(importers)}"
    return None


def _resolve_outputs(run: StackRun) -> tuple[list[dict[str, Any]], list[Export]]:
    """Output values and exports of the stack's current template, made static."""
    template = run.stack.template_dict
    output_map = OutputMap(run.resource_map, template, run.stack.stack_id)
    outputs: list[dict[str, Any]] = []
    exports: list[Export] = []
    with _moto_gate:
        for key, output_json in (template.get("Outputs") or {}).items():
            output = parsing.parse_output(key, output_json, run.resource_map)
            if output is None:
                continue
            value = output.value
            value = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            row: dict[str, Any] = {"OutputKey": key, "OutputValue": value, "Description": output.description}
            if output_json.get("Export"):
                name = str(parsing.clean_json(output_json["Export"].get("Name"), run.resource_map))
                row["ExportName"] = name
                exports.append(Export(run.stack.stack_id, name, value))
            outputs.append(row)
    run.stack.output_map = output_map
    return outputs, exports


def _export_conflict(run: StackRun, exports: list[Export]) -> str | None:
    for export in exports:
        existing = run.backend.exports.get(export.name)
        if existing is not None and existing.exporting_stack_id != run.stack.stack_id:
            owner = run.backend.stacks.get(existing.exporting_stack_id)
            owner_name = owner.name if owner is not None else existing.exporting_stack_id
            return f"Export with name {export.name} is already exported by stack {owner_name}"
    return None


def _changed_export_in_use(run: StackRun, exports: list[Export]) -> str | None:
    new_values = {e.name: e.value for e in exports}
    for old in run.exports:
        importers = _stacks_importing(run, old.name)
        if not importers:
            continue
        if old.name not in new_values:
            return f"Export {old.name} cannot be deleted as it is in use by {_in_use_by(importers)}"
        if new_values[old.name] != old.value:
            return f"Cannot update export {old.name} as it is in use by {_in_use_by(importers)}"
    return None


def _publish_outputs(run: StackRun, outputs: list[dict[str, Any]], exports: list[Export]) -> None:
    with _lock:
        for old in run.exports:
            if run.backend.exports.get(old.name) is not None and \
                    run.backend.exports[old.name].exporting_stack_id == run.stack.stack_id:
                run.backend.exports.pop(old.name, None)
        for export in exports:
            run.backend.exports[export.name] = export
        run.outputs = outputs or None
        run.exports = exports


def _withdraw_exports(run: StackRun) -> None:
    with _lock:
        for export in run.exports:
            current = run.backend.exports.get(export.name)
            if current is not None and current.exporting_stack_id == run.stack.stack_id:
                run.backend.exports.pop(export.name, None)
        run.exports = []
        run.outputs = None


# --- operations (run in worker threads) ---------------------------------------------------


def _start_operation(run: StackRun, operation: Callable[..., None], *args: Any) -> None:
    def body() -> None:
        _worker.active = True
        try:
            with run.op_lock:
                operation(run, *args)
        except OperationStopped:
            pass  # reset or cancelled: nothing more to report
        finally:
            with _lock:
                run.busy -= 1

    with _lock:
        run.busy += 1

    if getattr(_worker, "active", False):
        # A nested stack inside a worker: AWS waits for it, so run it inline.
        body()
        return
    thread = threading.Thread(target=body, name=f"cfn-{run.stack.name}-{operation.__name__}", daemon=True)
    with _lock:
        run.threads = [t for t in run.threads if t.is_alive()] + [thread]
    thread.start()


def _finish_change_set(run: StackRun, succeeded: bool) -> None:
    if run.change_set is not None:
        run.change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
        run.change_set = None


def _create_stack_operation(run: StackRun, order: list[str]) -> None:
    """CREATE_IN_PROGRESS (already recorded) -> resources one by one -> CREATE_COMPLETE."""
    missing = _missing_import(run)
    if missing is not None:
        _fail_creation(run, [], None, f"No export named {missing} found.")
        return
    made: list[str] = []
    for logical_id in order:
        fault_injection.wait_while_held(run.stack.name)
        if run.stop.is_set() or not _still_current(run):
            return  # DeleteStack or a reset took over
        try:
            _create_resource(run, logical_id)
        except ResourceFailed:
            _fail_creation(run, made, logical_id)
            return
        made.append(logical_id)
    outputs, exports = _resolve_outputs(run)
    conflict = _export_conflict(run, exports)
    if conflict:
        _fail_creation(run, made, None, conflict)
        return
    _publish_outputs(run, outputs, exports)
    _set_stack_status(run, "CREATE_COMPLETE")
    _finish_change_set(run, True)


def _fail_creation(run: StackRun, made: list[str], failed: str | None, reason: str | None = None) -> None:
    """CREATE_FAILED when rollback is disabled, else ROLLBACK_IN_PROGRESS ... ROLLBACK_COMPLETE."""
    reason = reason or f"The following resource(s) failed to create: [{failed}]."
    _finish_change_set(run, False)
    if run.disable_rollback or run.on_failure == "DO_NOTHING":
        _set_stack_status(run, "CREATE_FAILED", reason)
        return
    _set_stack_status(run, "ROLLBACK_IN_PROGRESS", f"{reason} Rollback requested by user.")
    undo = ([failed] if failed else []) + list(reversed(made))
    not_deleted = _delete_in_reverse(run, undo)
    if not_deleted:
        _set_stack_status(run, "ROLLBACK_FAILED", f"The following resource(s) failed to delete: [{', '.join(not_deleted)}]. ")
        return
    _set_stack_status(run, "ROLLBACK_COMPLETE")
    if run.on_failure == "DELETE":
        _set_stack_status(run, "DELETE_IN_PROGRESS", "User Initiated")
        _delete_stack_operation(run, "ROLLBACK_COMPLETE")


def _load_template(resource_map: ResourceMap, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    """Point a live ResourceMap at another template, as moto's ResourceMap.update does."""
    resource_map._template = template
    resource_map.input_parameters = parameters
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template["Resources"]


@dataclass
class UpdatePlan:
    template_body: str
    template: dict[str, Any]
    parameters: dict[str, Any]
    order: list[str]
    add: set[str]
    modify: set[str]
    remove: list[str]  # dependants first


def _update_stack_operation(run: StackRun, plan: UpdatePlan) -> None:
    """UPDATE_IN_PROGRESS -> add/modify in order -> cleanup removals -> UPDATE_COMPLETE."""
    stack = run.stack
    previous = (stack.template, stack.template_dict, dict(run.resource_map.input_parameters))
    _load_template(run.resource_map, plan.template, plan.parameters)
    run.imports = _imports_of(run.resource_map, plan.template)
    missing = _missing_import(run)
    if missing is not None:
        _roll_back_update(run, previous, [], None, "", f"No export named {missing} found.")
        return
    done: list[tuple[str, str]] = []
    for logical_id in plan.order:
        if logical_id not in plan.add and logical_id not in plan.modify:
            continue
        fault_injection.wait_while_held(stack.name)
        action = "create" if logical_id in plan.add else "update"
        try:
            _create_resource(run, logical_id) if action == "create" else _update_resource(run, logical_id)
        except ResourceFailed:
            _roll_back_update(run, previous, done, logical_id, action)
            return
        done.append((logical_id, action))
    stack.template, stack.template_dict = plan.template_body, plan.template
    outputs, exports = _resolve_outputs(run)
    problem = _export_conflict(run, exports) or _changed_export_in_use(run, exports)
    if problem:
        _roll_back_update(run, previous, done, None, "", problem)
        return
    _set_stack_status(run, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    _delete_in_reverse(run, plan.remove)
    with _lock:
        for logical_id in plan.remove:
            run.records.pop(logical_id, None)
    stack.parameters = plan.parameters
    stack.description = plan.template.get("Description")
    _publish_outputs(run, outputs, exports)
    _set_stack_status(run, "UPDATE_COMPLETE")
    _finish_change_set(run, True)


def _roll_back_update(
    run: StackRun,
    previous: tuple[str, dict[str, Any], dict[str, Any]],
    done: list[tuple[str, str]],
    failed: str | None,
    action: str,
    reason: str | None = None,
) -> None:
    """UPDATE_ROLLBACK_IN_PROGRESS -> restore modified -> delete added -> UPDATE_ROLLBACK_COMPLETE."""
    stack = run.stack
    reason = reason or f"The following resource(s) failed to {action}: [{failed}]."
    _finish_change_set(run, False)
    template_body, template, parameters = previous
    if run.disable_rollback:
        _set_stack_status(run, "UPDATE_FAILED", reason)
        return
    _set_stack_status(run, "UPDATE_ROLLBACK_IN_PROGRESS", f"{reason} Rollback requested by user.")
    _load_template(run.resource_map, template, parameters)
    stack.template, stack.template_dict = template_body, template
    run.imports = _imports_of(run.resource_map, template)
    to_restore = [lid for lid, act in done if act == "update"] + ([failed] if failed and action == "update" else [])
    for logical_id in reversed(to_restore):
        try:
            _update_resource(run, logical_id, check_faults=False)
        except ResourceFailed:
            _set_stack_status(run, "UPDATE_ROLLBACK_FAILED", f"The following resource(s) failed to update: [{logical_id}]. ")
            return
    _set_stack_status(run, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    added = [lid for lid, act in done if act == "create"] + ([failed] if failed and action == "create" else [])
    _delete_in_reverse(run, list(reversed(added)))
    with _lock:
        for logical_id in added:
            run.records.pop(logical_id, None)
    _set_stack_status(run, "UPDATE_ROLLBACK_COMPLETE")


def _delete_stack_operation(run: StackRun, status_before: str) -> None:
    """DELETE_IN_PROGRESS -> resources in reverse dependency order -> DELETE_COMPLETE."""
    stack = run.stack
    if not _still_current(run):
        return
    run.stop.clear()  # a creation this deletion cancelled has stopped by now
    if stack.status != "DELETE_IN_PROGRESS":
        status_before = stack.status
        _set_stack_status(run, "DELETE_IN_PROGRESS", "User Initiated")
    refusal = _export_in_use(run)
    if refusal:
        # AWS leaves the stack as it was and says why, rather than DELETE_FAILED.
        run.delete_pending = False
        _set_stack_status(run, status_before, refusal)
        return
    failed = _delete_in_reverse(run, _reverse_dependency_order(run))
    if failed:
        run.delete_pending = False
        _set_stack_status(run, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return
    with _moto_gate:
        if not _still_current(run):
            raise OperationStopped()
        _withdraw_exports(run)
        run.imports = set()
        _set_stack_status(run, "DELETE_COMPLETE")
        stack.deletion_time = utcnow()
        # DescribeStacks by name now fails; by stack id it still answers DELETE_COMPLETE.
        run.backend.stacks.pop(stack.stack_id, None)
        run.backend.deleted_stacks[stack.stack_id] = stack


# --- API entry points (moto's backend methods, replaced) ----------------------------------


def _request_options() -> dict[str, Any]:
    return dict(getattr(_request, "params", None) or {})


def _apply_request_options(run: StackRun, options: dict[str, Any]) -> None:
    run.token = options.get("ClientRequestToken")
    run.disable_rollback = bool(options.get("DisableRollback"))
    run.on_failure = options.get("OnFailure") or ("DO_NOTHING" if run.disable_rollback else "ROLLBACK")
    run.stack.disable_rollback = run.disable_rollback


def _begin_creation(run: StackRun, order: list[str]) -> None:
    run.imports = _imports_of(run.resource_map, run.stack.template_dict)
    # The tags moto's ResourceMap.create adds before making anything.
    run.resource_map.tags.update(
        {"aws:cloudformation:stack-name": run.stack.name, "aws:cloudformation:stack-id": run.stack.stack_id}
    )
    _set_stack_status(run, "CREATE_IN_PROGRESS", "User Initiated")
    _start_operation(run, _create_stack_operation, order)


def create_stack(
    backend: CloudFormationBackend,
    name: str,
    template: str,
    parameters: dict[str, Any],
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
    enable_termination_protection: bool | None = False,
    timeout_in_mins: int | None = None,
    stack_policy_body: str | None = None,
) -> Stack:
    """CreateStack: validate now, make resources later."""
    from moto.cloudformation.utils import generate_stack_id

    options = _request_options()
    if options.get("DisableRollback") and options.get("OnFailure"):
        raise ValidationError(message="You cannot specify both DisableRollback and OnFailure.")
    if any(stack.name == name for stack in backend.stacks.values()):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    stack = Stack(
        stack_id=generate_stack_id(name, backend.region_name, backend.account_id),
        name=name,
        template=template,
        parameters=parameters,
        account_id=backend.account_id,
        region_name=backend.region_name,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
        cross_stack_resources=backend.exports,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins,
        stack_policy_body=stack_policy_body,
    )
    order = _creation_order(stack.resource_map, stack.template_dict)
    run = _run_for(stack)
    _apply_request_options(run, options)
    backend.stacks[stack.stack_id] = stack
    _begin_creation(run, order)
    if getattr(_worker, "active", False) and stack.status != "CREATE_COMPLETE":
        # A nested stack: its parent's resource fails with AWS's wording.
        raise ValidationError(
            message=f"Embedded stack {stack.stack_id} was not successfully created: "
            f"{stack.stack_status_reason or stack.status}"
        )
    return stack


def _find_change_set(backend: CloudFormationBackend, change_set_name: str, stack_name: str | None) -> Any:
    if change_set_name in backend.change_sets:
        return backend.change_sets[change_set_name]
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == change_set_name and (
            not stack_name or stack_name in (change_set.stack_name, change_set.stack_id)
        ):
            return change_set
    raise ValidationError(message=f"ChangeSet [{change_set_name}] does not exist")


def execute_change_set(backend: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
    """ExecuteChangeSet: a CREATE set creates the REVIEW_IN_PROGRESS stack, an UPDATE set updates."""
    change_set = _find_change_set(backend, change_set_name, stack_name)
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
            f"execution status of [{change_set.execution_status}]"
        )
    stack = backend.stacks[change_set.stack_id]
    options = _request_options()
    if change_set.change_set_type == "CREATE":
        _prepare_stack_from_change_set(backend, stack, change_set)
        order = _creation_order(stack.resource_map, stack.template_dict)
        run = _run_for(stack)
        _apply_request_options(run, options)
        run.change_set = change_set
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        stack.change_set_id = change_set.change_set_id
        _begin_creation(run, order)
        return
    run = _run_for(stack)
    plan = _plan_update(run, change_set.template, change_set.parameters, require_changes=False)
    _apply_request_options(run, options)
    run.change_set = change_set
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    stack.change_set_id = change_set.change_set_id
    _begin_update(run, plan)


def _prepare_stack_from_change_set(backend: CloudFormationBackend, stack: Stack, change_set: Any) -> None:
    """Give the REVIEW_IN_PROGRESS placeholder moto made its template, parameters and imports."""
    stack.template = change_set.template
    stack._parse_template()
    stack.parameters = change_set.parameters
    stack.description = stack.template_dict.get("Description")
    # moto creates change-set stacks without the export table, so Fn::ImportValue fails.
    stack.cross_stack_resources = backend.exports
    stack.resource_map = stack._create_resource_map()
    stack.output_map = stack._create_output_map()


def _plan_update(run: StackRun, template_body: str, parameters: dict[str, Any], require_changes: bool) -> UpdatePlan:
    stack = run.stack
    if stack.status in IN_PROGRESS_STATES or stack.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "REVIEW_IN_PROGRESS"):
        raise ValidationError(
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    template = Stack.parse_template(template_body)
    # A scratch map validates parameters and evaluates conditions without touching the stack.
    scratch = ResourceMap(
        stack.stack_id, stack.name, parameters, stack.tags or {}, region_name=run.region,
        account_id=run.account_id, template=template, cross_stack_resources=run.backend.exports,
    )
    scratch.load()
    if require_changes and template == stack.template_dict and \
            scratch.resolved_parameters == run.resource_map.resolved_parameters:
        raise ValidationError(message="No updates are to be performed.")
    order = _creation_order(scratch, template)
    with _lock:
        old_jsons = {lid: rec.resource_json for lid, rec in run.records.items() if rec.instance is not None}
    live = set(old_jsons)
    changed_parameters = {
        key for key, value in scratch.resolved_parameters.items()
        if run.resource_map.resolved_parameters.get(key) != value
    }
    add = {lid for lid in order if lid not in live}
    modify = {
        lid for lid in order if lid in live and (
            template["Resources"][lid] != old_jsons[lid]
            or changed_parameters & set(parsing.get_references_from_template(template["Resources"][lid]))
        )
    }
    remove = [lid for lid in _reverse_dependency_order(run) if lid in live and lid not in order]
    return UpdatePlan(template_body, template, parameters, order, add, modify, remove)


def _begin_update(run: StackRun, plan: UpdatePlan) -> None:
    run.stack.last_updated_time = utcnow()
    _set_stack_status(run, "UPDATE_IN_PROGRESS", "User Initiated")
    _start_operation(run, _update_stack_operation, plan)


def update_stack(
    backend: CloudFormationBackend,
    name: str,
    template: str,
    role_arn: str | None,
    parameters: list[dict[str, Any]],
    tags: dict[str, str] | None,
) -> Stack:
    """UpdateStack: validate now, change resources later."""
    stack = backend.get_stack(name)
    resolved = backend._resolve_update_parameters(instance=stack, incoming_params=parameters)
    run = _run_for(stack)
    plan = _plan_update(run, template, resolved, require_changes=True)
    _apply_request_options(run, _request_options())
    if role_arn:
        stack.role_arn = role_arn
    if tags is not None:
        stack.tags = tags
    _begin_update(run, plan)
    return stack


def _last_status_written(run: StackRun) -> bool:
    """The running operation has set its final status and is only finishing its bookkeeping:
    a DeleteStack now must show DELETE_IN_PROGRESS when it returns, as AWS's does, not the
    settled status until that operation's thread has ended."""
    status = run.stack.status
    if status in IN_PROGRESS_STATES:
        return False
    # A creation with OnFailure=DELETE goes on from ROLLBACK_COMPLETE to delete the stack.
    return not (status == "ROLLBACK_COMPLETE" and run.on_failure == "DELETE")


def delete_stack(backend: CloudFormationBackend, name_or_stack_id: str) -> None:
    """DeleteStack: accepted at once (also for unknown names, as AWS does); deleted later."""
    stack = backend.stacks.get(name_or_stack_id) or next(
        (s for s in backend.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None:
        return
    if stack.enable_termination_protection:
        raise ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
        )
    run = _run_for(stack)
    options = _request_options()
    with _lock:
        if run.delete_pending or stack.status == "DELETE_IN_PROGRESS":
            return
        run.delete_pending = True
        busy = run.busy > 0
    run.token = options.get("ClientRequestToken")
    status_before = stack.status
    if busy and stack.status == "CREATE_IN_PROGRESS":
        run.stop.set()  # AWS cancels a creation in progress, then deletes what was made
    elif not busy or _last_status_written(run):
        _set_stack_status(run, "DELETE_IN_PROGRESS", "User Initiated")
    _start_operation(run, _delete_stack_operation, status_before)


# --- API reads (moto's response handlers, replaced for stacks this module runs) -----------


def _resource_rows(run: StackRun, logical_id: str | None = None) -> list[ResourceRecord]:
    with _lock:
        return [
            ResourceRecord(**{**rec.__dict__})
            for rec in run.records.values()
            if rec.status and (logical_id is None or rec.logical_id == logical_id)
        ]


def _drift() -> dict[str, str]:
    return {"StackResourceDriftStatus": "NOT_CHECKED"}


def _resource_row(run: StackRun, rec: ResourceRecord, detail: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "StackName": run.stack.name,
        "StackId": run.stack.stack_id,
        "LogicalResourceId": rec.logical_id,
        "PhysicalResourceId": rec.physical_id or None,
        "ResourceType": rec.resource_type,
        "Timestamp": rec.timestamp,
        "ResourceStatus": rec.status,
        "ResourceStatusReason": rec.reason,
        "DriftInformation": _drift(),
    }
    if detail:
        row["LastUpdatedTimestamp"] = rec.timestamp
        row["Metadata"] = json.dumps(rec.resource_json["Metadata"]) if "Metadata" in rec.resource_json else None
    return row


def _stack_owning_physical_id(backend: CloudFormationBackend, physical_id: str) -> Stack:
    with _lock:
        for run in _runs.values():
            if run.account_id == backend.account_id and run.region == backend.region_name:
                if any(rec.physical_id == physical_id for rec in run.records.values()):
                    return run.stack
    raise ValidationError(message=f"Stack for {physical_id} does not exist")


def _describe_stack_resources(self: CloudFormationResponse, original: Callable) -> ActionResult:
    backend = self.cloudformation_backend
    stack_name = self._get_param("StackName")
    physical_id = self._get_param("PhysicalResourceId")
    if not stack_name and not physical_id:
        raise ValidationError(message="Either StackName or PhysicalResourceId must be specified.")
    stack = backend.get_stack(stack_name) if stack_name else _stack_owning_physical_id(backend, physical_id)
    run = _managed_run(stack)
    if run is None:
        return original(self)
    rows = [
        _resource_row(run, rec)
        for rec in _resource_rows(run, self._get_param("LogicalResourceId"))
        if not physical_id or rec.physical_id == physical_id
    ]
    return ActionResult({"StackResources": rows})


def _describe_stack_resource(self: CloudFormationResponse, original: Callable) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    run = _managed_run(stack)
    if run is None:
        return original(self)
    logical_id = self._get_param("LogicalResourceId")
    rows = _resource_rows(run, logical_id)
    if not rows:
        raise ValidationError(message=f"Resource {logical_id} does not exist for stack {stack.name}")
    return ActionResult({"StackResourceDetail": _resource_row(run, rows[0], detail=True)})


def _list_stack_resources(self: CloudFormationResponse, original: Callable) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    run = _managed_run(stack)
    if run is None:
        return original(self)
    summaries = []
    for rec in _resource_rows(run):
        row = _resource_row(run, rec)
        row["LastUpdatedTimestamp"] = row.pop("Timestamp")
        for key in ("StackName", "StackId"):
            row.pop(key)
        summaries.append(row)
    return ActionResult({"StackResourceSummaries": summaries})


def _create_change_set_as_aws(original: Callable) -> Callable:
    """CreateChangeSet of type CREATE as AWS does it. A stack of that name still in
    REVIEW_IN_PROGRESS (made by an earlier change set that was never executed) receives the
    new change set: no second stack is made. A live stack in any other state refuses it.
    moto makes a new placeholder stack every time."""

    def create_change_set(
        self: CloudFormationBackend,
        stack_name: str,
        change_set_name: str,
        template: str,
        parameters: dict[str, str],
        description: str,
        change_set_type: str,
        notification_arns: list[str] | None = None,
        tags: dict[str, str] | None = None,
        role_arn: str | None = None,
    ) -> tuple[str, str]:
        live = [
            s for s in self.stacks.values() if s.name == stack_name and s.status != "DELETE_COMPLETE"
        ]
        if change_set_type == "UPDATE" or not live:
            return original(self, stack_name, change_set_name, template, parameters, description,
                            change_set_type, notification_arns, tags, role_arn)
        stack = live[0]
        if stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                message=f"Stack [{stack_name}] already exists and cannot be created again with "
                f"the changeSet [{change_set_name}]."
            )
        validate_create_change_set(change_set_name)
        change_set_id = generate_changeset_id(change_set_name, self.region_name, self.account_id)
        change_set = ChangeSet(
            change_set_type=change_set_type,
            change_set_id=change_set_id,
            change_set_name=change_set_name,
            stack=stack,
            template=template,
            parameters=parameters,
            description=description,
            notification_arns=notification_arns,
            tags=tags,
            role_arn=role_arn,
        )
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"
        # The stack takes the newest change set's parameters and tags, as on AWS.
        stack.parameters = parameters
        if tags is not None:
            stack.tags = tags
        self.change_sets[change_set_id] = change_set
        return change_set_id, stack.stack_id

    return create_change_set


def _remembering_request(original: Callable) -> Callable:
    """Keep the request parameters moto's handler ignores for the backend call it makes."""

    def handler(self: CloudFormationResponse) -> Any:
        _request.params = {
            "DisableRollback": self._get_bool_param("DisableRollback"),
            "OnFailure": self._get_param("OnFailure"),
            "ClientRequestToken": self._get_param("ClientRequestToken"),
        }
        try:
            return original(self)
        finally:
            _request.params = {}

    return handler


def _change_set_without_update_check(original: Callable) -> Callable:
    """CreateChangeSet with nothing to change succeeds in AWS: the change set is made and goes
    FAILED, "The submitted information didn't contain changes..." (moto's backend does exactly
    that). moto's handler first runs UpdateStack's check, which refuses the call with
    "No updates are to be performed." instead; that check is for UpdateStack only."""

    def handler(self: CloudFormationResponse) -> Any:
        _request.change_set = True
        try:
            return original(self)
        finally:
            _request.change_set = False

    return handler


def _validate_different_update(original: Callable) -> Callable:
    def check(self: CloudFormationResponse, *args: Any, **kwargs: Any) -> None:
        if getattr(_request, "change_set", False):
            return
        original(self, *args, **kwargs)

    return check


def _reading(replacement: Callable, original: Callable) -> Callable:
    def handler(self: CloudFormationResponse) -> Any:
        return replacement(self, original)

    return handler


# --- installation -------------------------------------------------------------------------


def _stack_outputs(stack: Stack) -> list[dict[str, Any]] | None:
    run = _managed_run(stack)
    if run is None:
        return _original_outputs.fget(stack)  # type: ignore[union-attr]
    with _lock:
        return list(run.outputs) if run.outputs and stack.status in _SETTLED_WITH_OUTPUTS else None


def _stack_exports(stack: Stack) -> list[Export]:
    run = _managed_run(stack)
    if run is None:
        return _original_exports.fget(stack)  # type: ignore[union-attr]
    with _lock:
        return list(run.exports)


def _stack_resources(stack: Stack) -> list[Any]:
    run = _managed_run(stack)
    if run is None:
        return list(_original_stack_resources.fget(stack))  # type: ignore[union-attr]
    with _lock:
        return [rec.instance for rec in run.records.values() if rec.instance is not None]


_original_outputs = Stack.outputs
_original_exports = Stack.exports
_original_stack_resources = Stack.stack_resources
_original_validate_outputs = ResourceMap.validate_outputs


def _validate_outputs(resource_map: ResourceMap) -> None:
    # moto crashes validating an output of a type it lacks; that resource fails later instead.
    try:
        _original_validate_outputs(resource_map)
    except AttributeError:
        pass


def _forget_all_stacks() -> None:
    """Reset hook: stop every worker; moto's state is already gone."""
    with _lock:
        runs = list(_runs.values())
        _runs.clear()
    for run in runs:
        run.stop.set()
    deadline = time.monotonic() + 10
    for run in runs:
        for thread in run.threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))


def _gate_moto_reset() -> None:
    """Stop workers before moto resets, so none makes a resource in the fresh state."""
    from moto.moto_api._internal.models import moto_api_backend

    original_reset = moto_api_backend.reset

    def reset() -> None:
        with _lock:
            for run in _runs.values():
                run.stop.set()
        with _moto_gate:
            original_reset()

    moto_api_backend.reset = reset  # type: ignore[method-assign]


def install(ctx: Any) -> None:
    _pace.update(ctx.pace)

    CloudFormationBackend.create_stack = create_stack  # type: ignore[assignment]
    CloudFormationBackend.create_change_set = _create_change_set_as_aws(  # type: ignore[assignment]
        CloudFormationBackend.create_change_set)
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[assignment]
    CloudFormationBackend.update_stack = update_stack  # type: ignore[assignment]
    CloudFormationBackend.delete_stack = delete_stack  # type: ignore[assignment]

    Stack.outputs = property(_stack_outputs)  # type: ignore[assignment]
    Stack.exports = property(_stack_exports)  # type: ignore[assignment]
    Stack.stack_resources = property(_stack_resources)  # type: ignore[assignment]
    ResourceMap.validate_outputs = _validate_outputs  # type: ignore[assignment]

    response = CloudFormationResponse
    for name in ("create_stack", "update_stack", "delete_stack", "execute_change_set"):
        setattr(response, name, _remembering_request(getattr(response, name)))
    response.create_change_set = _change_set_without_update_check(response.create_change_set)
    response._validate_different_update = _validate_different_update(response._validate_different_update)
    response.describe_stack_resources = _reading(_describe_stack_resources, response.describe_stack_resources)
    response.describe_stack_resource = _reading(_describe_stack_resource, response.describe_stack_resource)
    response.list_stack_resources = _reading(_list_stack_resources, response.list_stack_resources)

    _gate_moto_reset()
    control_api.on_reset(_forget_all_stacks)
