"""Placeholder: filled in by its own change."""

from typing import Any


def install(ctx: Any) -> None:
    pass
