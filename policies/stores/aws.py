"""AWS Secrets Manager as the stack invariants see it: secrets and the identity policies of roles."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from policies.aws.secretsmanager import ROTATION, SECRET_TYPE, rotations_by_secret
from policies.contract.vocabulary import (
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_ENVIRONMENT,
    TAG_HOME_STORE,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    TAG_VALUE_SOURCE,
    parse_scopes,
)
from policies.framework import Resource, matches_any
from policies.lib.iam import expand_action
from policies.model import UNKNOWN
from policies.stores import Access, StoredSecret, register_extractor

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _statements(doc: Any) -> Iterator[dict[str, Any]]:
    try:
        parsed = json.loads(doc) if isinstance(doc, str) else doc
    except json.JSONDecodeError:
        return
    if not isinstance(parsed, dict):
        return
    st = parsed.get("Statement", [])
    for s in st if isinstance(st, list) else [st]:
        if isinstance(s, dict):
            yield s


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def readable_secret_names(doc: Any) -> set[str] | None:
    """Secret names an identity document allows GetSecretValue on (None if it is unknown)."""
    if doc == UNKNOWN:
        return None
    names: set[str] = set()
    for st in _statements(doc):
        if st.get("Effect") != "Allow":
            continue
        # The analyzer's own expansion (wildcards inside names, any case), not a second grammar.
        granted = {a for p in _as_list(st.get("Action", [])) for a in expand_action(str(p))}
        if "secretsmanager:getsecretvalue" not in granted:
            continue
        for res in _as_list(st.get("Resource", [])):
            res = str(res)
            if ":secret:" in res:
                names.add(res.split(":secret:", 1)[1])
            elif res == "*":
                names.add("*")
    return names


def reads(pattern: str, secret_name: str) -> bool:
    """Does a Resource entry (after ':secret:') cover a secret name (with AWS's 6-char suffix)?"""
    if pattern == "*":
        return True
    if "*" in pattern or "?" in pattern:
        return matches_any(secret_name + "-AbCdEf", [pattern])
    return pattern.rsplit("-", 1)[0] == secret_name or pattern == secret_name


class AwsExtractor:
    backend = "aws"
    resource_types: tuple[str, ...] = (SECRET_TYPE, ROTATION, ROLE_POLICY)

    def secrets(self, resources: Sequence[Resource]) -> list[StoredSecret]:
        rotated = rotations_by_secret(resources)
        out = []
        for r in resources:
            if r.type != SECRET_TYPE:
                continue
            tags = r.tags()
            name = str(r.get("name") or r.name)
            out.append(
                StoredSecret(
                    backend=self.backend,
                    urn=r.urn,
                    name=name,
                    catalog_name=tags.get(TAG_CATALOG_NAME),
                    environment=tags.get(TAG_ENVIRONMENT),
                    scopes=parse_scopes(tags.get(TAG_ACCESS_SCOPES, "")),
                    rotation_class=tags.get(TAG_ROTATION_CLASS),
                    revoked=tags.get(TAG_REVOKED) == "true",
                    home=tags.get(TAG_HOME_STORE),
                    value_source=tags.get(TAG_VALUE_SOURCE),
                    rotated=r.urn in rotated or name in rotated,
                )
            )
        return out

    def access(self, resources: Sequence[Resource], secrets: Sequence[StoredSecret]) -> Access:
        """Role name -> the secrets its inline role policies let it read."""
        mine = [s for s in secrets if s.backend == self.backend]
        by_urn = {r.urn: r for r in resources}
        access = Access()
        for r in resources:
            if r.type != ROLE_POLICY:
                continue
            patterns = readable_secret_names(r.get("policy"))
            parent = by_urn.get(r.parent or "")
            role = (
                str(parent.get("name") or parent.name) if parent is not None else str(r.get("role"))
            )
            if patterns is None:
                access.complete = False
                continue
            access.grant(role, {s.urn for s in mine if any(reads(p, s.name) for p in patterns)})
        return access


register_extractor(AwsExtractor())
