"""``kubernetes-clustersecretstore-conditions``: an External Secrets ``ClusterSecretStore`` serves
any namespace that asks unless its ``conditions`` restrict it; every condition must name its
namespaces (``namespaces``, a non-empty ``namespaceSelector``, or anchored ``namespaceRegexes``
that do not match everything). A namespaced ``SecretStore`` is the project's form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity

CLUSTER_SECRET_STORE_TYPES = tuple(
    f"kubernetes:external-secrets.io/{v}:ClusterSecretStore" for v in ("v1", "v1beta1", "v1alpha1")
)

SPEC = Spec(
    id="kubernetes-clustersecretstore-conditions",
    description="An External Secrets ClusterSecretStore is restricted by conditions to named "
    "namespaces; without them any namespace's ExternalSecret reads the whole store",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Use a namespaced SecretStore per namespace, or give the ClusterSecretStore "
    "spec.conditions with namespaces (or a namespaceSelector) naming the project's namespaces.",
    resource_types=CLUSTER_SECRET_STORE_TYPES,
)

#: Regexes that admit every namespace (or almost): unanchored, or a bare wildcard.
_EVERYTHING = re.compile(r"^\^?\.[*+]\$?$")


def _condition_problem(cond: Any) -> str | None:
    if cond == UNKNOWN:
        return None
    if not isinstance(cond, dict):
        return "is not an object"
    names = cond.get("namespaces")
    selector = cond.get("namespaceSelector")
    regexes = cond.get("namespaceRegexes")
    restricted = False
    if isinstance(names, list) and [n for n in names if isinstance(n, str) and n]:
        restricted = True
    if isinstance(selector, dict) and (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        restricted = True
    if isinstance(regexes, list) and regexes:
        for rx in regexes:
            if not isinstance(rx, str) or _EVERYTHING.match(rx) or not rx.startswith("^"):
                return f"namespaceRegexes {rx!r} is not anchored to the project's namespaces"
        restricted = True
    if not restricted:
        return "names no namespace (it matches every namespace)"
    return None


def _check(r: Resource, report: Callable[[str], None]) -> None:
    conditions = r.get("spec.conditions")
    if conditions == UNKNOWN:
        return
    if not isinstance(conditions, list) or not conditions:
        report("no spec.conditions: every namespace may read this store")
        return
    for i, cond in enumerate(conditions):
        problem = _condition_problem(cond)
        if problem is not None:
            report(f"spec.conditions[{i}] {problem}")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
