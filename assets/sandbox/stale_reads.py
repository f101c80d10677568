"""Eventually consistent CloudFormation reads, as AWS has them.

Right after a call that changes a stack (CreateStack, CreateChangeSet for a new stack,
ExecuteChangeSet, UpdateStack, DeleteStack), AWS's DescribeStacks and DescribeStackEvents can
still answer with the state from before the call for a while: the previous status and reason,
none of the new events, and for a stack that did not exist yet, "does not exist". Tools that
take the first read after a call as the truth fail on real accounts now and then; the sandbox
reproduces it so xwizard is tested against it.

For `seconds` after each such call (0 turns it off) the two reads answer from a snapshot
taken just before the call. The window is a fault (`faults/stale-reads`) and defaults to the
pace's `stale_reads` (on at the realistic pace, off at the fast one). Only these reads lag:
DescribeChangeSet, ListStackResources and the resources themselves answer at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import control_api

if TYPE_CHECKING:
    from moto.cloudformation.models import CloudFormationBackend, Stack

_lock = threading.Lock()
_default = {"seconds": 0.0}
_window = {"seconds": 0.0}


@dataclass
class _Snapshot:
    until: float
    existed: bool
    status: str | None
    reason: str | None
    n_events: int


# By stack id: the state reads answer with until the window closes.
_snapshots: dict[str, _Snapshot] = {}


def set_window(seconds: float) -> None:
    """Sets the window for the calls to come; 0 also ends the windows open now."""
    if seconds < 0:
        raise ValueError(f"a stale-read window cannot be negative ({seconds})")
    with _lock:
        _window["seconds"] = seconds
        if seconds == 0:
            _snapshots.clear()


def window() -> float:
    with _lock:
        return _window["seconds"]


def _reset() -> None:
    with _lock:
        _snapshots.clear()
        _window["seconds"] = _default["seconds"]


def _remember(stack: Stack | None, stack_id: str, existed: bool) -> None:
    seconds = window()
    if seconds <= 0:
        return
    snapshot = _Snapshot(
        until=time.monotonic() + seconds,
        existed=existed,
        status=getattr(stack, "status", None) if existed else None,
        reason=getattr(stack, "status_reason", None) if existed else None,
        n_events=len(getattr(stack, "events", [])) if existed else 0,
    )
    with _lock:
        # A second call inside the window keeps the older snapshot: reads lag the first one.
        current = _snapshots.get(stack_id)
        if current is None or current.until < time.monotonic():
            _snapshots[stack_id] = snapshot
        else:
            current.until = snapshot.until


def _stale(stack: Stack) -> _Snapshot | None:
    with _lock:
        snapshot = _snapshots.get(stack.stack_id)
        if snapshot is None:
            return None
        if snapshot.until < time.monotonic():
            del _snapshots[stack.stack_id]
            return None
        return snapshot


def _find(backend: CloudFormationBackend, name_or_id: str | None) -> Stack | None:
    if not name_or_id:
        return None
    return backend.stacks.get(name_or_id) or next(
        (s for s in backend.stacks.values() if s.name == name_or_id), None
    )


class _SeenStack:
    """A stack read during its window: the old status and reason, the rest as it is."""

    def __init__(self, stack: Stack, snapshot: _Snapshot) -> None:
        self._stack = stack
        self.status = snapshot.status
        self.status_reason = snapshot.reason

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stack, name)


def _as_seen(stack: Stack) -> Any:
    """The stack as a stale read shows it; None when it is not visible yet."""
    snapshot = _stale(stack)
    if snapshot is None:
        return stack
    if not snapshot.existed:
        return None
    return _SeenStack(stack, snapshot)


# --- the calls that change a stack: a snapshot first -------------------------------------------


def _snapshot_before(original: Callable, stack_of: Callable[..., Stack | None]) -> Callable:
    """Wraps a backend call; `stack_of(backend, *args, **kwargs)` finds the stack it changes."""

    def call(backend: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        stack = stack_of(backend, *args, **kwargs)
        if stack is not None:
            _remember(stack, stack.stack_id, existed=True)
        return original(backend, *args, **kwargs)

    return call


def _first_arg(keyword: str) -> Callable[..., Stack | None]:
    """The stack named by the call's first argument, passed as itself or as `keyword`."""

    def stack_of(backend: CloudFormationBackend, *args: Any, **kwargs: Any) -> Stack | None:
        return _find(backend, args[0] if args else kwargs.get(keyword))

    return stack_of


def _of_change_set(backend: CloudFormationBackend, *args: Any, **kwargs: Any) -> Stack | None:
    """ExecuteChangeSet(change_set_name, stack_name): the change set's stack."""
    change_set = args[0] if args else kwargs.get("change_set_name")
    stack_name = args[1] if len(args) > 1 else kwargs.get("stack_name")
    found = backend.change_sets.get(change_set) or next(
        (cs for cs in backend.change_sets.values() if cs.change_set_name == change_set
         and stack_name in (None, cs.stack_name, cs.stack_id)), None)
    return getattr(found, "stack", None) or _find(backend, stack_name)


def _new_stack_hidden(original: Callable) -> Callable:
    """CreateStack: the new stack is not visible to reads for a while."""

    def call(backend: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        stack = original(backend, *args, **kwargs)
        _remember(None, stack.stack_id, existed=False)
        return stack

    return call


def _change_set_stack_hidden(original: Callable) -> Callable:
    """CreateChangeSet of a new stack: its REVIEW_IN_PROGRESS stack is not visible yet."""

    def call(backend: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        stack_name = args[0] if args else kwargs.get("stack_name")
        existed = _find(backend, stack_name) is not None
        change_set_id, stack_id = original(backend, *args, **kwargs)
        if not existed:
            _remember(None, stack_id, existed=False)
        return change_set_id, stack_id

    return call


# --- the reads that lag -----------------------------------------------------------------------


def _deleted_in_window(backend: CloudFormationBackend, name: str) -> Stack | None:
    """A stack deleted so recently that reads by name still see it."""
    for stack in backend.deleted_stacks.values():
        if stack.name == name and _stale(stack) is not None:
            return stack
    return None


def _describe_stacks(original: Callable) -> Callable:
    from moto.cloudformation.exceptions import ValidationError

    def call(backend: CloudFormationBackend, name_or_stack_id: str) -> list[Any]:
        try:
            stacks = original(backend, name_or_stack_id)
        except ValidationError:
            recent = _deleted_in_window(backend, name_or_stack_id) if name_or_stack_id else None
            if recent is None:
                raise
            stacks = [recent]
        seen = [s for s in (_as_seen(stack) for stack in stacks) if s is not None]
        if name_or_stack_id and not seen:
            raise ValidationError(name_or_stack_id)
        return seen

    return call


def _describe_stack_events(original: Callable) -> Callable:
    from moto.cloudformation.exceptions import ValidationError

    def call(backend: CloudFormationBackend, stack_name: str) -> list[Any]:
        try:
            stack = backend.get_stack(stack_name)
        except ValidationError:
            stack = _deleted_in_window(backend, stack_name)
            if stack is None:
                raise
        snapshot = _stale(stack)
        if snapshot is None:
            return original(backend, stack_name)
        if not snapshot.existed:
            raise ValidationError(stack_name)
        return list(stack.events)[: snapshot.n_events]

    return call


def install(ctx: Any) -> None:
    """The window and its control: at start, as the control API may set it at once."""
    seconds = float(ctx.pace.get("stale_reads", 0.0))
    _default["seconds"] = seconds
    _window["seconds"] = seconds
    control_api.on_reset(_reset)


def install_moto(_ctx: Any) -> None:
    """The lagging reads: once moto's CloudFormation is needed (see first_use.py)."""
    from moto.cloudformation.models import CloudFormationBackend

    backend = CloudFormationBackend
    backend.create_stack = _new_stack_hidden(backend.create_stack)  # type: ignore[assignment]
    backend.create_change_set = _change_set_stack_hidden(  # type: ignore[assignment]
        backend.create_change_set)
    backend.execute_change_set = _snapshot_before(  # type: ignore[assignment]
        backend.execute_change_set, _of_change_set)
    backend.update_stack = _snapshot_before(  # type: ignore[assignment]
        backend.update_stack, _first_arg("name"))
    backend.delete_stack = _snapshot_before(  # type: ignore[assignment]
        backend.delete_stack, _first_arg("name_or_stack_id"))
    backend.describe_stacks = _describe_stacks(backend.describe_stacks)  # type: ignore[assignment]
    backend.describe_stack_events = _describe_stack_events(  # type: ignore[assignment]
        backend.describe_stack_events)
