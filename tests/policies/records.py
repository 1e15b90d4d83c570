"""Fixture records for the pack's case tables: a resource as the policies see it."""

from __future__ import annotations

from typing import Any

from policies.model import ResourceRecord


def rec(type_: str, props: dict[str, Any], name: str = "r", **kw: Any) -> ResourceRecord:
    """A fixture resource of ``type_`` with inputs ``props`` (URN ``...::<type>::<name>``)."""
    return ResourceRecord(
        urn=f"urn:pulumi:t::neural-trader-secrets::{type_}::{name}",
        type=type_,
        name=name,
        props=props,
        source="fixture",
        **kw,
    )
