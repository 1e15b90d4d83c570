"""Vault ACL policies (``vault:index/policy:Policy``): judged on what their rules grant.

Two concerns, one policy each:

* ``vault-policy-least-privilege``: the text is read as Vault reads it (``policies.vault.acl``) and
  anything it does not understand is a violation (fail closed); no ``sudo`` or ``root``; every glob
  stays inside one mount, environment and service (see :func:`_breadth`); ``list`` on KV metadata
  stays as deep.
* ``vault-policy-no-privilege-escalation``: no write capability on the paths through which a token
  raises its own privileges (``sys/``, ``auth/``, ``identity/``), outside a short allowlist of
  self-service paths.

Nothing depends on the policy's name: an "admin" policy is judged like any other (a policy Vault
administration needs is exempted by URN in the policy pack config, with its reason, or kept out of
the program). ``deny`` rules never grant, so they are fine anywhere; they never make a broad grant
acceptable either (a broader rule still grants every path the deny does not name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, document
from policies.model import CIPHERTEXT, UNKNOWN, Category, Severity
from policies.profile import Profile
from policies.vault.acl import WRITE_CAPABILITIES, Document, PathPattern, Rule, parse
from policies.vault.common import POLICY

MINIMUM_LITERAL_SEGMENTS = 4

LEAST_PRIVILEGE = Spec(
    id="vault-policy-least-privilege",
    profile=Profile.MIXED,
    house="the path layout `<mount>/<environment>/data/<service>` (minimumLiteralSegments 4) is the project's; universally a glob needs 1 literal segment (no `*` or `+` at the root); sudo, root and unreadable policies are findings either way",
    description="Vault ACL policies can be read as Vault reads them (text or shapes not understood "
    "fail closed), never grant sudo or root, and keep every glob inside one service of one "
    "environment: the first minimumLiteralSegments path segments (default 4: "
    "`<mount>/<environment>/data/<service>`) are literal before any '*' or '+', and list on KV "
    "metadata needs as many literal segments",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant read on `<mount>/<environment>/data/<service>/<key>` (or on "
    "`<mount>/<environment>/data/<service>/*`), one path block per service; drop sudo (root-only "
    "endpoints belong to an operator token, not to a policy); write HCL or JSON with only path "
    "blocks of known capabilities.",
    resource_types=(POLICY,),
    config={
        "minimumLiteralSegments": {
            "type": "integer",
            "minimum": 1,
            "description": "literal path segments required before a '*' or '+' glob (and in a "
            "path that allows list on KV metadata); default 4 under the project profile, 1 "
            "otherwise",
        }
    },
    profile_defaults={"minimumLiteralSegments": (MINIMUM_LITERAL_SEGMENTS, 1)},
)

#: Write capabilities on these paths are fine: self-service on the caller's own token and leases,
#: hashing, wrapping. ``auth/token/create`` (without sudo) only mints children of the caller,
#: carrying a subset of its policies and revoked with it; ``create-orphan``, role-based creation
#: (``auth/token/create/<role>``) and ``no_parent`` (needs sudo) are not in the list.
ALLOWED_PRIVILEGED_WRITES = (
    "auth/token/create",
    "auth/token/lookup-self",
    "auth/token/renew-self",
    "auth/token/revoke-self",
    "identity/oidc/provider/+/authorize",
    "sys/capabilities-self",
    "sys/control-group/request",
    "sys/leases/lookup",
    "sys/leases/renew",
    "sys/renew",
    "sys/renew/*",
    "sys/tools/hash",
    "sys/tools/hash/*",
    "sys/tools/hash/+",
    "sys/tools/random",
    "sys/tools/random/+",
    "sys/wrapping/lookup",
    "sys/wrapping/unwrap",
    "sys/wrapping/wrap",
)

#: The paths of Vault's (and OpenBao's) built-in ``default`` policy, attached to every token
#: (``tests/policies/test_vault_default_policy.py`` reads it from a real server), and the older
#: ``sys/renew/*`` and ``cubbyhole`` list: the caller's own token, leases, cubbyhole, entity and
#: OIDC authorization, response wrapping and hashing. A glob there reaches nothing beyond the
#: caller (``cubbyhole/*`` is the token's private storage), so the breadth rule of
#: ``vault-policy-least-privilege`` does not apply to these exact paths.
TOKEN_SELF_SERVICE = frozenset(
    {
        "auth/token/lookup-self",
        "auth/token/renew-self",
        "auth/token/revoke-self",
        "cubbyhole",
        "cubbyhole/*",
        "identity/entity/id/{{identity.entity.id}}",
        "identity/entity/name/{{identity.entity.name}}",
        "identity/oidc/provider/+/authorize",
        "sys/capabilities-self",
        "sys/internal/ui/resultant-acl",
        "sys/leases/lookup",
        "sys/leases/renew",
        "sys/renew",
        "sys/renew/*",
        "sys/tools/hash",
        "sys/tools/hash/*",
        "sys/wrapping/lookup",
        "sys/wrapping/unwrap",
        "sys/wrapping/wrap",
    }
)

#: Where a write raises privileges, most specific first: (pattern, what a write there does).
PRIVILEGED_PATHS: tuple[tuple[PathPattern, str], ...] = tuple(
    (PathPattern(p), why)
    for p, why in (
        ("sys/policy*", "rewrites ACL policies (a token grants itself any policy)"),
        ("sys/policies/*", "rewrites ACL policies (a token grants itself any policy)"),
        ("sys/mounts*", "mounts, tunes or removes secrets engines"),
        ("sys/remount*", "moves secrets engines"),
        ("sys/auth*", "enables or reconfigures auth methods"),
        ("sys/audit*", "disables or redirects audit devices"),
        ("sys/*", "changes Vault's system configuration"),
        ("auth/token/create*", "creates orphan or role-based tokens with policies of its choosing"),
        (
            "auth/token/roles*",
            "defines token roles, which mint tokens with the policies they allow",
        ),
        ("auth/*", "creates or rewrites auth roles, which bind any policy to a login"),
        ("identity/*", "sets the policies of identity entities and groups"),
    )
)

ESCALATION = Spec(
    id="vault-policy-no-privilege-escalation",
    description="Vault ACL policies grant no write (create, update, patch, delete, recover) through "
    "which a token raises its own privileges: sys/ (policies, mounts, auth methods, audit devices, "
    "system settings), auth/ (auth and token roles, orphan and role-based token creation) and "
    "identity/ (entity and group policies), outside a short allowlist of self-service paths",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Administer Vault (policies, mounts, auth roles, audit devices) from the Pulumi "
    "program with an operator token, never through an application policy; an application needs "
    "read on its secrets and at most the self-service paths of allowedPrivilegedWritePaths.",
    resource_types=(POLICY,),
    config={
        "allowedPrivilegedWritePaths": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(ALLOWED_PRIVILEGED_WRITES),
            "description": "Vault path patterns under sys/, auth/ and identity/ where writes are "
            "fine; a rule passes when its path is one of them or a concrete path one matches",
        }
    },
)


def policy_text(raw: Any) -> Any:
    """A Vault policy as text: HCL or JSON, in a secret envelope or not; the stored result of a
    ``vault.get_policy_document`` call (a map holding ``hcl``) stands for its text. None when
    absent or unreadable."""
    value = document(raw)
    if not isinstance(value, Mapping):
        return value
    hcl = value.get("hcl")
    if isinstance(hcl, str) and hcl not in ("", UNKNOWN, CIPHERTEXT):
        return hcl
    return value


POLICY_TEXT = declare((POLICY,), "policy")


def _document(r: Resource, report: Callable[[str], None]) -> Document | None:
    text = policy_text(r.get("policy"))
    if text is None:
        return None  # unknown at preview / encrypted in state
    if not isinstance(text, str):
        report("policy is not HCL or JSON text")
        return None
    return parse(text)


def _breadth(rule: Rule, minimum: int) -> str | None:
    """Why a rule reaches across mounts, environments or services (None: it does not)."""
    pattern = rule.pattern
    literal = pattern.literal_segments()
    if pattern.only_wildcards:
        return f'path "{rule.path}" matches paths under every mount'
    if pattern.is_glob and literal < minimum:
        layout = " (<mount>/<environment>/data/<service>)" if minimum == 4 else ""
        return (
            f'path "{rule.path}" is a glob after {literal} literal segment(s); the first '
            f"{minimum}{layout} must be literal"
        )
    if (
        not pattern.is_glob
        and "list" in rule.capabilities
        and literal < minimum
        and "metadata" in pattern.segments
    ):
        return (
            f'path "{rule.path}" allows list on KV metadata with {literal} literal segment(s) '
            f"(at least {minimum}): it enumerates the secrets of every environment or service below"
        )
    return None


def _least_privilege(r: Resource, report: Callable[[str], None]) -> None:
    document = _document(r, report)
    if document is None:
        return
    for problem in document.problems:
        report(f"unreadable, fail closed: {problem}")
    minimum = int(r.config.get("minimumLiteralSegments", MINIMUM_LITERAL_SEGMENTS))
    for rule in document.rules:
        if rule.denies:
            continue
        for cap in sorted(rule.capabilities & {"sudo", "root"}):
            report(f'path "{rule.path}" grants {cap}')
        if rule.path.removeprefix("/") in TOKEN_SELF_SERVICE:
            continue  # what every token's default policy grants: the caller's own
        breadth = _breadth(rule, minimum)
        if breadth:
            report(breadth)


def escalation(rule: Rule, allowed: Sequence[PathPattern]) -> str | None:
    """What a rule's writes let a token do to its own privileges (None: nothing)."""
    writes = rule.capabilities & WRITE_CAPABILITIES
    if not writes:
        return None
    pattern = rule.pattern
    why = next((w for p, w in PRIVILEGED_PATHS if pattern.overlaps(p)), None)
    if why is None:
        return None
    if any(
        pattern.text == a.text or (not pattern.is_glob and a.matches(pattern.text)) for a in allowed
    ):
        return None
    return f'path "{rule.path}" allows {", ".join(sorted(writes))}: {why}'


def _escalation(r: Resource, report: Callable[[str], None]) -> None:
    document = _document(r, lambda _message: None)  # unreadable text: least-privilege reports it
    if document is None:
        return
    configured = r.config.get("allowedPrivilegedWritePaths")
    allowed = [
        PathPattern(p.removeprefix("/"))
        for p in (ALLOWED_PRIVILEGED_WRITES if configured is None else configured)
        if isinstance(p, str)
    ]
    for rule in document.rules:
        finding = escalation(rule, allowed)
        if finding:
            report(finding)


POLICIES: list[PackPolicy] = [
    resource_policy(LEAST_PRIVILEGE, _least_privilege),
    resource_policy(ESCALATION, _escalation),
]
