"""``kubernetes-clustersecretstore-conditions``: an External Secrets ``ClusterSecretStore`` serves
any namespace that asks unless its ``conditions`` restrict it; every condition must name its
namespaces (``namespaces``, a non-empty ``namespaceSelector``, or anchored ``namespaceRegexes``
that do not match everything). A namespaced ``SecretStore`` is the project's form.

The store is read in every form it reaches the pack (the custom resource, an object of a
``yaml/v2`` ConfigGroup), secret envelopes removed at any depth; a condition (or the list of
them) unknown at preview or stored as ciphertext is not judged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.kubernetes.workloads import CONFIG_GROUP, manifests
from policies.lib.shapes import pick, unwrap
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
    resource_types=(*CLUSTER_SECRET_STORE_TYPES, CONFIG_GROUP),
)

#: Regexes that admit every namespace (or almost): unanchored, or a bare wildcard.
_EVERYTHING = re.compile(r"^\^?\.[*+]\$?$")


def _condition_problem(cond: Any) -> str | None:
    cond = unwrap(cond)
    if cond == UNKNOWN:
        return None
    if not isinstance(cond, Mapping):
        return "is not an object"
    names = cond.get("namespaces")
    selector = cond.get("namespaceSelector")
    regexes = cond.get("namespaceRegexes")
    restricted = False
    if isinstance(names, list) and [n for n in names if isinstance(n, str) and n]:
        restricted = True
    if isinstance(selector, Mapping) and (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        restricted = True
    if isinstance(regexes, list) and regexes:
        if UNKNOWN in regexes:
            return None  # a regex that cannot be read is not judged
        for rx in regexes:
            if not isinstance(rx, str) or _EVERYTHING.match(rx) or not rx.startswith("^"):
                return f"namespaceRegexes {rx!r} is not anchored to the project's namespaces"
        restricted = True
    if not restricted:
        return "names no namespace (it matches every namespace)"
    return None


def _conditions(r: Resource, report: Callable[[str], None]) -> None:
    conditions = pick(r.props, "spec.conditions")
    if not conditions:
        report("no spec.conditions: every namespace may read this store")
        return
    for i, cond in enumerate(conditions):
        problem = _condition_problem(cond)
        if problem is not None:
            report(f"spec.conditions[{i}] {problem}")


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if r.type != CONFIG_GROUP:
        _conditions(r, report)
        return
    for prefix, obj in manifests(r):
        if obj.type in CLUSTER_SECRET_STORE_TYPES:

            def located(message: str, at: str = prefix) -> None:
                report(at + message)

            _conditions(obj, located)


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
