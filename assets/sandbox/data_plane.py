"""Placeholder: filled in by its own change."""

from typing import Any


def install(ctx: Any) -> None:
    pass


def start(ctx: Any, host: str, port: int) -> dict[str, Any]:
    return {}


def stop() -> None:
    pass
