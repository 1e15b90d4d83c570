"""Vault auth roles: who can log in, for how long, and never into root.

One policy per concern:

* ``vault-auth-kubernetes-role-bound``: Kubernetes roles name their service accounts, namespaces
  and audience.
* ``vault-auth-kubernetes-config-secure``: the Kubernetes auth method never handles service
  account JWTs in plaintext (TLS to the API server, no plaintext token reviewer JWT).
* ``vault-auth-approle-secret-id-bound``: AppRole secret IDs are required, limited in uses and
  lifetime, and bound to networks.
* ``vault-auth-jwt-role-bound``: JWT/OIDC roles bind claims (and, for JWT roles, audiences).
* ``vault-auth-role-token-ttl``: tokens issued by any login role (Kubernetes, AppRole, JWT/OIDC,
  token roles) have a short TTL and a bounded lifetime.
* ``vault-no-root-policy``: nothing attaches the ``root`` policy (login roles, token roles, tokens,
  identity entities and groups).

An unset input is judged by the default Vault gives it (unset TTLs fall back to the mount's, 32 days
unless tuned; unset ``secretIdNumUses`` means unlimited...). A value unknown at preview is not
judged, and neither is one stored as ciphertext. Every input is read through the shapes reader
(``policies/lib/shapes.py``): a Pulumi secret envelope around a list, a list item, a map, a map
value or a scalar stands for the value it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, pick, setting, unwrap
from policies.model import UNKNOWN, Category, Severity
from policies.profile import Profile
from policies.vault.common import (
    APPROLE_ROLE,
    IDENTITY_POLICY_HOLDERS,
    JWT_ROLE,
    KUBERNETES_CONFIG,
    KUBERNETES_ROLE,
    LOGIN_ROLES,
    TOKEN,
    TOKEN_ROLE,
    absent,
    duration_seconds,
    falsy,
    human,
    listed,
    only_wildcards,
    plaintext,
)

Report = Callable[[str], None]

# ---- Kubernetes ----------------------------------------------------------------------------------

KUBERNETES = Spec(
    id="vault-auth-kubernetes-role-bound",
    description="Kubernetes auth roles name the service accounts and namespaces that may log in "
    "(no '*', no empty list, no namespace glob) and the audience their tokens must carry",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set boundServiceAccountNames and boundServiceAccountNamespaces to the workload's "
    "exact service account and namespace, and audience to the one the workload's projected token "
    "is minted for (e.g. `vault`).",
    resource_types=(KUBERNETES_ROLE,),
)


SA_NAMES = declare((KUBERNETES_ROLE,), "boundServiceAccountNames")
SA_NAMESPACES = declare((KUBERNETES_ROLE,), "boundServiceAccountNamespaces")
SA_SELECTOR = declare((KUBERNETES_ROLE,), "boundServiceAccountNamespaceSelector")
AUDIENCE = declare((KUBERNETES_ROLE,), "audience")


def _selector_binds(selector: Any) -> bool:
    """A namespace label selector that selects something less than every namespace."""
    if not isinstance(selector, str) or not selector.strip():
        return False
    try:
        parsed = yaml.safe_load(selector)  # Vault reads JSON or YAML
    except yaml.YAMLError:
        return False
    return isinstance(parsed, dict) and any(
        parsed.get(k) for k in ("matchLabels", "matchExpressions")
    )


def _kubernetes(r: Resource, report: Report) -> None:
    names = listed(r.props, SA_NAMES)
    if names is not None:
        if not names:
            report("boundServiceAccountNames is empty: name the service accounts that may log in")
        elif any(only_wildcards(n) for n in names):
            report("boundServiceAccountNames contains '*': every service account may log in")
    namespaces = listed(r.props, SA_NAMESPACES)
    selector = setting(r.props, SA_SELECTOR)
    if namespaces is not None and selector != UNKNOWN:
        if not namespaces and not _selector_binds(selector):
            report(
                "boundServiceAccountNamespaces is empty (and no namespace selector with labels): "
                "name the namespaces that may log in"
            )
        for ns in namespaces:
            if only_wildcards(ns):
                report("boundServiceAccountNamespaces contains '*': every namespace may log in")
            elif "*" in ns:
                report(
                    f"boundServiceAccountNamespaces entry {ns!r} is a glob: any namespace created "
                    "later with a matching name may log in"
                )
    audience = setting(r.props, AUDIENCE)
    if audience != UNKNOWN and (not isinstance(audience, str) or not audience.strip()):
        report("audience is not set: a token minted for any other audience logs in")


KUBERNETES_CONFIG_SPEC = Spec(
    id="vault-auth-kubernetes-config-secure",
    description="Kubernetes auth methods never handle service account JWTs in plaintext: they call "
    "the API server over TLS (kubernetesHost is https://) and hold no plaintext tokenReviewerJwt",
    severity=Severity.HIGH,
    category=Category.PLAINTEXT,
    remediation="Point kubernetesHost at the https:// API endpoint; leave tokenReviewerJwt unset "
    "(Vault then reviews each login with the client's own JWT, or with its pod's token when it runs "
    "in the cluster), or pass it as a Pulumi secret.",
    resource_types=(KUBERNETES_CONFIG,),
)


HOST = declare((KUBERNETES_CONFIG,), "kubernetesHost")


def _kubernetes_config(r: Resource, report: Report) -> None:
    host = setting(r.props, HOST)
    if (
        isinstance(host, str)
        and host != UNKNOWN
        and not host.strip().lower().startswith("https://")
    ):
        report("kubernetesHost is not https://: service account JWTs cross the network in clear")
    if plaintext(r, "tokenReviewerJwt"):
        report("tokenReviewerJwt holds a service account token in plaintext")


# ---- AppRole -------------------------------------------------------------------------------------

APPROLE = Spec(
    id="vault-auth-approle-secret-id-bound",
    profile=Profile.MIXED,
    house="binding secret IDs and tokens to CIDRs (requireCidrBinding) needs network configuration another estate may not have: required only under the profile; secret IDs bound, limited in uses and lifetime either way",
    description="AppRole roles require a secret ID (bindSecretId), limit each secret ID's uses "
    "(secretIdNumUses > 0) and lifetime (secretIdTtl > 0), and bind secret IDs and tokens to "
    "networks (secretIdBoundCidrs, tokenBoundCidrs; tunable)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Keep bindSecretId true; set secretIdNumUses (1 for response-wrapped delivery), "
    "secretIdTtl (minutes to hours) and the CIDRs the workload runs in as secretIdBoundCidrs and "
    "tokenBoundCidrs.",
    resource_types=(APPROLE_ROLE,),
    config={
        "requireCidrBinding": {
            "type": "boolean",
            "description": "require secretIdBoundCidrs and tokenBoundCidrs (no 0.0.0.0/0 or "
            "::/0); default true under the project profile, false otherwise",
        }
    },
    profile_defaults={"requireCidrBinding": (True, False)},
)

_ANYWHERE = frozenset({"0.0.0.0/0", "::/0", "0.0.0.0", "::"})  # noqa: S104 - CIDRs judged, not bound


BIND_SECRET_ID = declare((APPROLE_ROLE,), "bindSecretId")
SECRET_ID_NUM_USES = declare((APPROLE_ROLE,), "secretIdNumUses")
SECRET_ID_TTL = declare((APPROLE_ROLE,), "secretIdTtl")
APPROLE_CIDRS = (
    declare((APPROLE_ROLE,), "secretIdBoundCidrs"),
    declare((APPROLE_ROLE,), "tokenBoundCidrs"),
)


def _positive(r: Resource, field: str, what: str, report: Report, duration: bool = False) -> None:
    value = setting(r.props, field)
    if value == UNKNOWN:
        return
    if absent(value):
        report(f"{field} is not set: {what}")
        return
    try:
        amount = duration_seconds(value) if duration else float(value)
    except (TypeError, ValueError):
        report(f"{field} is not {'a duration' if duration else 'a number'}")
        return
    if amount <= 0:
        report(f"{field} is {value!r}: {what}")


def _approle(r: Resource, report: Report) -> None:
    if falsy(setting(r.props, BIND_SECRET_ID)):
        report("bindSecretId is false: the role ID alone logs in")
    _positive(r, SECRET_ID_NUM_USES, "a secret ID can be used without limit", report)
    _positive(r, SECRET_ID_TTL, "a secret ID never expires", report, duration=True)
    if r.config.get("requireCidrBinding", True):
        for field in APPROLE_CIDRS:
            value = listed(r.props, field)
            if value is None:
                continue
            cidrs = [c.strip() for c in value]
            if not cidrs:
                report(f"{field} is not set: usable from any network")
            elif any(c in _ANYWHERE for c in cidrs):
                report(f"{field} contains 0.0.0.0/0 or ::/0: usable from any network")


# ---- JWT / OIDC ----------------------------------------------------------------------------------

JWT = Spec(
    id="vault-auth-jwt-role-bound",
    description="JWT/OIDC auth roles bind the claims that identify who may log in (boundClaims or "
    "boundSubject, no '*' glob) and JWT roles bind their audiences (boundAudiences; OIDC roles are "
    "bound to their client ID by Vault)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set boundAudiences to the audience the issuer mints for Vault and boundClaims to "
    "the repository/branch, group or subject the role is for (e.g. GitHub Actions: `sub`, "
    "`repository`, `ref`).",
    resource_types=(JWT_ROLE,),
)


ROLE_TYPE = declare((JWT_ROLE,), "roleType")
BOUND_AUDIENCES = declare((JWT_ROLE,), "boundAudiences")
BOUND_CLAIMS = declare((JWT_ROLE,), "boundClaims")
BOUND_CLAIMS_TYPE = declare((JWT_ROLE,), "boundClaimsType")
BOUND_SUBJECT = declare((JWT_ROLE,), "boundSubject")


def _unreadable_claims(value: Any) -> bool:
    """A claims map (secret envelopes removed) holding a value that cannot be read."""
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_unreadable_claims(v) for v in value.values())
    if isinstance(value, list):
        return any(_unreadable_claims(v) for v in value)
    return False


def _claims(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, list[str]] = {}
    for key, raw in value.items():
        items = raw if isinstance(raw, list) else [raw]
        out[str(key)] = [
            part.strip()
            for v in items
            if isinstance(v, str)
            for part in v.split(",")
            if part.strip()
        ]
    return out


def _jwt(r: Resource, report: Report) -> None:
    role_type = setting(r.props, ROLE_TYPE)
    if role_type == UNKNOWN:
        return
    if (role_type or "oidc") == "jwt":
        audiences = listed(r.props, BOUND_AUDIENCES)
        if audiences is not None and not audiences:
            report(
                "boundAudiences is not set: a token minted for any audience of the issuer logs in"
            )
    claims = unwrap(setting(r.props, BOUND_CLAIMS))
    subject = setting(r.props, BOUND_SUBJECT)
    claims_type = setting(r.props, BOUND_CLAIMS_TYPE)
    if UNKNOWN in (subject, claims_type) or _unreadable_claims(claims):
        return
    parsed = _claims(claims)
    glob = claims_type == "glob"
    binding = {
        k: v for k, v in parsed.items() if v and not (glob and any(only_wildcards(x) for x in v))
    }
    for key in sorted(set(parsed) - set(binding)):
        report(f"boundClaims.{key} matches every value")
    if not binding and not (isinstance(subject, str) and subject.strip()):
        report("neither boundClaims nor boundSubject is set: every identity of the issuer logs in")


# ---- token TTLs (every login role) -------------------------------------------------------------

TTL = Spec(
    id="vault-auth-role-token-ttl",
    profile=Profile.MIXED,
    house="the project's 1 h TTL / 4 h lifetime; universally 24 h / 768 h (Vault's own maximum): a token without a bound is a finding either way",
    description="Tokens issued by login roles (Kubernetes, AppRole, JWT/OIDC, token roles) have a "
    "TTL (tokenTtl, default at most 1h) and a bounded lifetime (tokenMaxTtl or tokenExplicitMaxTtl, "
    "default at most 4h; periodic tokens need tokenExplicitMaxTtl)",
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation="Set tokenTtl (e.g. 3600) and tokenMaxTtl (e.g. 14400) on the role; a workload "
    "logs in again when its token expires.",
    resource_types=LOGIN_ROLES,
    config={
        "maximumTokenTtl": {
            "type": "integer",
            "minimum": 1,
            "description": "seconds (default 3600 under the project profile, 86400 otherwise)",
        },
        "maximumTokenMaxTtl": {
            "type": "integer",
            "minimum": 1,
            "description": "seconds (default 14400 under the project profile, 2764800 (768 h) "
            "otherwise)",
        },
    },
    profile_defaults={"maximumTokenTtl": (3600, 86400), "maximumTokenMaxTtl": (14400, 2764800)},
)


TTL_FIELDS = ("tokenTtl", "tokenMaxTtl", "tokenExplicitMaxTtl", "tokenPeriod")
for _field in TTL_FIELDS:
    declare(LOGIN_ROLES, _field)


def _seconds(r: Resource, field: str, report: Report) -> float | None:
    """Seconds of a TTL input; None when unset, zero, unknown or unreadable (reported)."""
    value = setting(r.props, field)
    if value == UNKNOWN or absent(value):
        return None
    try:
        seconds = duration_seconds(value)
    except ValueError:
        report(f"{field} is not a duration")
        return None
    return seconds or None


def _ttl(r: Resource, report: Report) -> None:
    if any(setting(r.props, f) == UNKNOWN for f in TTL_FIELDS):
        return
    max_ttl = int(r.config.get("maximumTokenTtl", 3600))
    max_lifetime = int(r.config.get("maximumTokenMaxTtl", 14400))
    ttl = _seconds(r, "tokenTtl", report)
    period = _seconds(r, "tokenPeriod", report)
    if period is not None:
        if period > max_ttl:
            report(f"tokenPeriod is {human(period)}; at most {human(max_ttl)}")
    elif ttl is None:
        report(
            "tokenTtl is not set: tokens live for the mount's default lease TTL (32 days unless tuned)"
        )
    elif ttl > max_ttl:
        report(f"tokenTtl is {human(ttl)}; at most {human(max_ttl)}")
    explicit = _seconds(r, "tokenExplicitMaxTtl", report)
    # Periodic tokens ignore max_ttl: only an explicit max TTL ends them.
    caps = [explicit] if period is not None else [_seconds(r, "tokenMaxTtl", report), explicit]
    bounds = [c for c in caps if c is not None]
    if not bounds:
        report(
            "tokenExplicitMaxTtl is not set: periodic tokens renew forever"
            if period is not None
            else "neither tokenMaxTtl nor tokenExplicitMaxTtl is set: tokens renew up to the "
            "mount's maximum (32 days unless tuned)"
        )
    elif min(bounds) > max_lifetime:
        report(f"tokens live up to {human(min(bounds))}; at most {human(max_lifetime)}")


# ---- root policy ------------------------------------------------------------------------------

#: resource type -> inputs that attach policies to the tokens it yields
POLICY_FIELDS: dict[str, tuple[str, ...]] = {
    KUBERNETES_ROLE: ("tokenPolicies",),
    APPROLE_ROLE: ("tokenPolicies",),
    JWT_ROLE: ("tokenPolicies",),
    TOKEN_ROLE: ("tokenPolicies", "allowedPolicies"),
    TOKEN: ("policies",),
    **{t: ("policies",) for t in IDENTITY_POLICY_HOLDERS},
}

for _type, _fields in POLICY_FIELDS.items():
    for _field in _fields:
        declare((_type,), _field)

ROOT = Spec(
    id="vault-no-root-policy",
    description="No login role, token role, token, identity entity or group attaches the root "
    "policy",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Attach the named policies the identity needs; root tokens are generated for a "
    "break-glass operation (vault operator generate-root) and revoked after it.",
    resource_types=tuple(POLICY_FIELDS),
)


def _root(r: Resource, report: Report) -> None:
    for field in POLICY_FIELDS.get(r.type, ()):
        # a list item unknown at preview leaves the known ones to judge
        if any(isinstance(n, str) and n.strip().lower() == "root" for n in pick(r.props, field)):
            report(f"{field} includes root")


POLICIES: list[PackPolicy] = [
    resource_policy(KUBERNETES, _kubernetes),
    resource_policy(KUBERNETES_CONFIG_SPEC, _kubernetes_config),
    resource_policy(APPROLE, _approle),
    resource_policy(JWT, _jwt),
    resource_policy(TTL, _ttl),
    resource_policy(ROOT, _root),
]
