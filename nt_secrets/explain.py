"""``nt-secrets explain NAME --stack S``: one secret's whole story, from the offline plan.

Catalog entry → the resources holding it in each enabled store (with their address) → who can
read, write, manage or describe it (access-model role → the store's identity) → how it is rotated
→ whether it is revoked → every policy that judged those resources, with its verdict.

Never a value: resources are named by URN, type and address; inputs are not shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra import backends
from infra.access import ROLE_NAMES, Action
from infra.catalog import ENV_VAR_RE, Catalog, CatalogEntry
from infra.estate import Estate, ExternalValue, GeneratedValue, StoredSecret, SuppliedValue
from infra.rotation.contract import RotationStrategy
from infra.settings import StackSettings
from nt_secrets.capture import Capture, CapturedResource
from policies.contract import redact
from policies.contract.vocabulary import TAG_CATALOG_NAME, resource_labels
from policies.framework import PackPolicy, walk_strings
from policies.graph import ACTION_ORDER, Graph
from policies.intended import DEFAULT_ROLE_IDENTITIES, role_of
from policies.model import Enforcement, Violation

EXPLAIN_SCHEMA_VERSION = 1

#: What each step of a strategy does (create / set / test / finish), for the reader of a plan.
STRATEGY_STEPS: Mapping[RotationStrategy, tuple[str, str, str, str]] = {
    RotationStrategy.GENERATED_HMAC: (
        "generate a new random HMAC key",
        "nothing to set: the key lives only in the store",
        "check the new key's length and encoding",
        "promote it; consumers pick it up on their next read (the previous key stays readable)",
    ),
    RotationStrategy.GENERATED_AES256: (
        "generate a new random 256-bit key",
        "nothing to set: the key lives only in the store",
        "check the new key's length and encoding",
        "promote it; data encrypted with the previous key needs it to be re-encrypted",
    ),
    RotationStrategy.POSTGRES_SINGLE_USER: (
        "generate a new password for the same user",
        "ALTER ROLE ... PASSWORD (a SCRAM verifier, never the plaintext)",
        "log in with the new URL",
        "promote it; sessions opened with the old password keep running",
    ),
    RotationStrategy.POSTGRES_ALTERNATING_USERS: (
        "switch to the other of two users (<user> / <user>_clone) with a new password",
        "as the master user (same server only): create or update that user, same grants",
        "log in as it",
        "promote it; the previous user keeps working until the next rotation (zero downtime)",
    ),
    RotationStrategy.REDIS_ACL: (
        "generate a new password",
        "ACL SETUSER adds it beside the current one (both work)",
        "AUTH with the new password",
        "promote it, then remove the old password from the ACL user",
    ),
    RotationStrategy.THIRD_PARTY_MANUAL: (
        "notify the rotation topic that the key is due (nothing is changed)",
        "an operator issues a new key at the provider and stores it as the pending value",
        "check the pending key is present and new",
        "promote it; revoke the old key at the provider (docs/rotation.md §5)",
    ),
}


class ExplainError(ValueError):
    """Bad input to ``explain`` (an unknown name): exit 2."""


@dataclass(frozen=True)
class Verdict:
    policy: str
    urn: str | None
    verdict: str  # pass | fail | disabled
    enforcement: str
    messages: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "urn": self.urn,
            "verdict": self.verdict,
            "enforcement": self.enforcement,
            "messages": list(self.messages),
        }


def check_name(catalog: Catalog, name: str) -> CatalogEntry:
    if name not in catalog.names:
        shown = redact.name(name, ENV_VAR_RE)  # user input: perhaps the secret itself
        raise ExplainError(f"{shown} is not in the secret catalog (`nt-secrets catalog` lists it)")
    return catalog.get(name)


def _labels(r: CapturedResource) -> Mapping[str, Any]:
    return resource_labels(r.raw_inputs)


def _related(
    capture: Capture, name: str, references: Iterable[str]
) -> tuple[list[CapturedResource], list[CapturedResource]]:
    """The resources holding the secret (labelled with its catalog name), and those that exist
    for it: their children, resources that depend on a holder (rotation, invoke permission), and
    resources whose inputs name one of the secret's ``references`` (an ACL policy naming its
    path)."""
    # Stores with lower-case labels (GCP) keep the catalog name lower-cased: names are unique
    # regardless of case (environment variable names).
    holders = [
        r
        for r in capture.resources
        if str(_labels(r).get(TAG_CATALOG_NAME) or "").upper() == name.upper()
    ]
    needles = [n for n in references if n]
    held = {r.urn for r in holders}
    related: list[CapturedResource] = []
    seen = set(held)
    frontier = set(held)
    while frontier:
        nxt = set()
        for r in capture.resources:
            if r.urn in seen:
                continue
            if r.parent in frontier or frontier & set(r.dependencies):
                related.append(r)
                nxt.add(r.urn)
        seen |= nxt
        # Only children of children are followed; a dependent's dependents are another story.
        frontier = {r.urn for r in related if r.urn in nxt and r.parent in seen}
    for r in capture.resources:
        if r.urn not in seen and any(
            n in s for _, s in walk_strings(r.raw_inputs) for n in needles
        ):
            related.append(r)
            seen.add(r.urn)
    return holders, related


def _address(r: CapturedResource) -> str:
    """An ARN where the store has them; else the name the resource declares (inside its mount,
    for Vault); else the logical name."""
    arn = r.outputs.get("arn")
    if isinstance(arn, str) and arn:
        return arn
    name, mount = r.raw_inputs.get("name"), r.raw_inputs.get("mount")
    if isinstance(name, str) and name:
        return f"{mount}/{name}" if isinstance(mount, str) and mount else name
    return r.name


def _value_source(secret: StoredSecret) -> str:
    value = secret.value
    if isinstance(value, GeneratedValue):
        return f"generated by the infrastructure ({value.generator.kind}), a Pulumi secret"
    if isinstance(value, SuppliedValue):
        return f"supplied by the stack config ({value.config_key}, set with --secret)"
    assert isinstance(value, ExternalValue)
    return f"issued by {value.provider}; put into the store out of band (never by Pulumi)"


def verdicts(
    resources: Sequence[CapturedResource],
    violations: Sequence[Violation],
    policies: Iterable[PackPolicy],
    enforcement: Mapping[str, Enforcement],
    *,
    name: str,
) -> list[Verdict]:
    """Every policy that judged these resources (or the stack, about this secret), with its verdict."""
    urns = {r.urn for r in resources}
    out: list[Verdict] = []
    for p in policies:
        level = enforcement.get(p.spec.id, p.spec.enforcement)
        if p.kind == "stack":
            mine = [
                v.message
                for v in violations
                if v.policy == p.spec.id
                and (v.urn in urns or v.message.startswith(f"{name}:") or f" {name} " in v.message)
            ]
            if level is Enforcement.DISABLED:
                out.append(Verdict(p.spec.id, None, "disabled", level.value))
            elif any(p.spec.applies_to(r.type) for r in resources):
                out.append(
                    Verdict(p.spec.id, None, "fail" if mine else "pass", level.value, tuple(mine))
                )
            continue
        for r in resources:
            if not p.spec.applies_to(r.type):
                continue
            if level is Enforcement.DISABLED:
                out.append(Verdict(p.spec.id, r.urn, "disabled", level.value))
                continue
            mine = [v.message for v in violations if v.policy == p.spec.id and v.urn == r.urn]
            out.append(
                Verdict(p.spec.id, r.urn, "fail" if mine else "pass", level.value, tuple(mine))
            )
    return out


def explain_document(
    entry: CatalogEntry,
    *,
    settings: StackSettings,
    estate: Estate,
    capture: Capture,
    violations: Sequence[Violation],
    policies: Iterable[PackPolicy],
    enforcement: Mapping[str, Enforcement],
    graph: Graph,
) -> dict[str, Any]:
    """One secret's story. Who can read, write, manage or describe each copy comes from the access
    graph of the plan (``graph``: the pack's evaluators), never from the access model alone; the
    access model's intent is shown beside it (``intended``)."""
    env = estate.environment
    doc: dict[str, Any] = {
        "schemaVersion": EXPLAIN_SCHEMA_VERSION,
        "stack": capture.stack,
        "name": entry.name,
        "catalog": {
            "description": entry.description,
            "category": entry.category.value,
            "service": entry.service,
            "sensitive": entry.sensitive,
            "source": entry.source.value,
            "environments": [e.value for e in entry.environments],
            "declaredScopes": [s.value for s in entry.scopes],
            "tradingMode": mode.value if (mode := entry.mode_in(env)) else None,
            "replacedBy": entry.replaced_by,
        },
        "environment": env.value,
        "stored": entry.name in estate,
    }
    if entry.name not in estate:
        if not entry.sensitive:
            why = "plain configuration: no secret manager holds it"
        elif entry.replaced_by:
            why = f"never stored: {entry.replaced_by}"
        else:
            why = f"not needed in {env.value}"
        doc["reason"] = why
        return doc
    secret = estate.secret(entry.name)
    # The stores holding a copy (home first, then replicas) and the deliveries that read it.
    holding = set(secret.placement.stores)
    enabled = [
        (b, block)
        for b, block in backends.enabled(settings)
        if b.name in holding or isinstance(b, backends.Consumer)
    ]
    enabled.sort(key=lambda bb: _store_order(secret, bb[0].name))
    views = {b.name: _view(estate, secret, b) for b, _ in enabled}
    locations = {b.name: b.locations(views[b.name], block).get(entry.name) for b, block in enabled}
    enabled = [(b, block) for b, block in enabled if locations[b.name] is not None]
    # How the store's other resources name the secret: its location without the wildcard of a
    # name AWS completes (the ARN's random suffix).
    references = [str(loc).removesuffix("-??????") for loc in locations.values() if loc]
    holders, related = _related(capture, entry.name, references)
    owner = _owners(capture)
    executor = _executor(capture, secret, locations.get(secret.home))
    stores = []
    on_paths: set[str] = set()
    readers: set[str] = set()
    for backend, block in enabled:
        location = locations[backend.name]
        identities = backend.identities(views[backend.name], block)
        own = [r for r in holders if owner.get(r.urn) == backend.name]
        role = secret.placement.role_in(backend.name) or "delivery"
        effective = []
        nodes = [r.urn for r in own if r.urn in graph.secrets] or _delivering(
            capture, graph, backend.name, entry.name
        )
        for urn in nodes:
            for a in graph.access(urn):
                on_paths |= {h.urn for p in a.paths for h in p if h.urn}
                if Action.READ in a.actions and not a.escalation:
                    readers.add(a.principal)
                effective.append(
                    {
                        "principal": a.principal,
                        "role": role_of(graph, a.principal, DEFAULT_ROLE_IDENTITIES, a.paths),
                        "actions": [x.value for x in ACTION_ORDER if x in a.actions],
                        "escalation": a.escalation,
                        "via": [h.text() for h in a.paths[0]] if a.paths else [],
                    }
                )
        stores.append(
            {
                "backend": backend.name,
                "title": backend.title,
                "role": role,
                "valueSource": secret.value_source,
                "rotatedBy": _rotated_by(secret, role, executor),
                "location": location,
                "resources": [{"urn": r.urn, "type": r.type, "address": _address(r)} for r in own],
                "access": effective,
                "intended": [
                    {
                        "role": role,
                        "identity": identities.get(role),
                        "actions": sorted(a.value for a in secret.effective(role)),
                    }
                    for role in ROLE_NAMES
                    if secret.effective(role) and role in identities
                ],
            }
        )
    rotation: dict[str, Any] | None = None
    if secret.rotation is not None:
        plan = secret.rotation
        steps = STRATEGY_STEPS[plan.strategy]
        rotation = {
            "class": plan.rotation_class.value,
            "periodDays": plan.period_days,
            "classMaximumDays": plan.rotation_class.max_age_days,
            "strategy": plan.strategy.value,
            "parameters": dict(sorted(plan.params.items())),
            "steps": dict(zip(("create", "set", "test", "finish"), steps, strict=True)),
            "emergency": f"nt-secrets rotate {entry.name} --now --stack {capture.stack}",
        }
    seen = {r.urn for r in (*holders, *related)}
    # The resources on a path that grants access (a role binding, an access policy, a Vault
    # policy) are judged with the secret: their verdicts belong to its story.
    granting = [r for r in capture.resources if r.urn in on_paths and r.urn not in seen]
    judged = [*holders, *related, *granting]
    doc.update(
        {
            "scopes": sorted(s.value for s in secret.scopes),
            "classification": secret.classification,
            "value": _value_source(secret),
            "home": secret.home,
            "replicas": list(secret.replicas),
            "valueSource": secret.value_source,
            "stores": stores,
            "readers": sorted(readers),
            "intendedReaders": list(secret.effective_roles_with(Action.READ)),
            "complete": graph.complete,
            "rotation": rotation,
            "revoked": secret.revoked,
            "resources": [
                {"urn": r.urn, "type": r.type, "role": "holds" if r in holders else "serves"}
                for r in judged
            ],
            "policies": [
                v.to_json()
                for v in verdicts(judged, violations, policies, enforcement, name=entry.name)
            ],
        }
    )
    return doc


def _delivering(capture: Capture, graph: Graph, store: str, name: str) -> list[str]:
    """The secrets of ``store`` (in the graph) that deliver catalog entry ``name`` among others:
    a Kubernetes Secret an ExternalSecret fills with several keys, one of them named ``name``."""
    found = []
    for r in capture.resources:
        node = graph.secrets.get(r.urn)
        mine = node is not None and node.store == store
        if mine and any(value == name for _, value in walk_strings(r.raw_inputs)):
            found.append(r.urn)
    return found


def _store_order(secret: StoredSecret, name: str) -> int:
    """Home first, then replicas in placement order, then deliveries."""
    stores = secret.placement.stores
    return stores.index(name) if name in stores else len(stores)


def _view(estate: Estate, secret: StoredSecret, backend: backends.Backend) -> Estate:
    """What ``backend`` is handed when the program runs: a store its own view, a delivery the
    whole estate."""
    if isinstance(backend, backends.Consumer) or backend.name not in secret.placement.stores:
        return estate
    return estate.held_by(backend.name)


#: What ``rotatedBy`` says of a rotating secret whose home has no executor in the plan.
NO_EXECUTOR = "nobody: no rotation executor in this plan"


def _env_list(container: Mapping[str, Any], name: str) -> list[str]:
    """A JSON list held by the environment variable ``name`` of a container (empty if none)."""
    import json

    for var in container.get("env") or ():
        if isinstance(var, Mapping) and var.get("name") == name:
            try:
                value = json.loads(str(var.get("value")))
            except ValueError:
                return []
            return [str(v) for v in value] if isinstance(value, list) else []
    return []


def _executor(capture: Capture, secret: StoredSecret, location: Any) -> str | None:
    """The executor the plan declares for the home copy of ``secret`` (None: none covers it):
    the AWS rotation Lambda a SecretRotation of it names, the GCP function granted it, the Azure
    function its vault's near-expiry events for it reach, or the Vault job whose secret list
    holds its address."""
    if secret.rotation is None:
        return None
    if secret.home == "aws":
        scheduled = any(
            r.type == "aws:secretsmanager/secretRotation:SecretRotation"
            and r.name == f"{secret.logical_name}-rotation"
            for r in capture.resources
        )
        functions = [
            str(r.raw_inputs.get("name") or r.name)
            for r in capture.resources
            if r.type == "aws:lambda/function:Function" and r.name.endswith("rotation-function")
        ]
        return f"aws rotation Lambda {functions[0]}" if scheduled and functions else None
    if secret.home == "gcp":
        granted = any(
            r.type == "gcp:secretmanager/secretIamMember:SecretIamMember"
            and r.name == f"{secret.logical_name}-secret-rotation"
            for r in capture.resources
        )
        functions = [
            str(r.raw_inputs.get("name") or r.name)
            for r in capture.resources
            if r.type == "gcp:cloudfunctionsv2/function:Function"
            and (r.raw_inputs.get("eventTrigger") or {}).get("pubsubTopic")
        ]
        return f"gcp rotation function {functions[0]}" if granted and functions else None
    if secret.home == "azure" and location is not None:
        return _azure_executor(capture, str(location))
    if secret.home == "vault" and location is not None:
        for r in capture.resources:
            if r.type != "kubernetes:batch/v1:CronJob":
                continue
            meta, spec = r.raw_inputs.get("metadata") or {}, r.raw_inputs.get("spec") or {}
            pod = (
                (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get(
                    "spec"
                )
            ) or {}
            for container in pod.get("containers") or ():
                if str(location) in _env_list(container, "NT_VAULT_ROTATION_SECRETS"):
                    return (
                        f"vault rotation job (CronJob {meta.get('namespace')}/"
                        f"{meta.get('name')}, {spec.get('schedule')})"
                    )
    return None


def _azure_executor(capture: Capture, location: str) -> str | None:
    """The function app an Event Grid subscription of the secret's vault delivers its
    ``SecretNearExpiry`` events to (filtered to its name), when the plan declares that app."""
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    vault, name = parts.netloc.split(".", 1)[0], parts.path.rstrip("/").rsplit("/", 1)[-1]
    apps = {
        str(r.raw_inputs.get("name") or r.name)
        for r in capture.resources
        if r.type == "azure-native:web:WebApp"
    }
    for r in capture.resources:
        if r.type != "azure-native:eventgrid:SystemTopicEventSubscription":
            continue
        inputs = r.raw_inputs
        destination = inputs.get("destination") or {}
        found = (inputs.get("filter") or {}) if isinstance(inputs.get("filter"), Mapping) else {}
        subjects = [
            v
            for f in found.get("advancedFilters") or ()
            if isinstance(f, Mapping) and f.get("key") == "subject"
            for v in f.get("values") or ()
        ]
        target = (
            str(destination.get("resourceId") or "") if isinstance(destination, Mapping) else ""
        )
        app = target.split("/sites/", 1)[-1].split("/", 1)[0] if "/sites/" in target else ""
        if (
            inputs.get("systemTopicName") == f"{vault}-events"
            and destination.get("endpointType") == "AzureFunction"
            and "Microsoft.KeyVault.SecretNearExpiry" in (found.get("includedEventTypes") or ())
            and name in subjects
            and app in apps
        ):
            return f"azure rotation function {app}"
    return None


def _rotated_by(secret: StoredSecret, role: str, executor: str | None) -> str | None:
    """Who makes each new version of this copy: the home's executor as the plan declares it
    (the home copy itself, and every replica before the new version is promoted); a delivery
    re-reads the home. A rotating secret whose home has no executor says so."""
    if secret.rotation is None:
        return None
    if role == "delivery":
        return f"{secret.home} (re-read on refresh)"
    if executor is None:
        return NO_EXECUTOR
    return executor if role == "home" else f"{executor}, before the home promotes it"


def _owners(capture: Capture) -> dict[str, str]:
    """URN -> the backend whose top-level component (a child of the stack named after the
    backend, as the program declares it) the resource lives under."""
    by_urn = {r.urn: r for r in capture.resources}
    root = next((r.urn for r in capture.resources if r.type == "pulumi:pulumi:Stack"), "")
    out: dict[str, str] = {}

    def owner(urn: str) -> str:
        if urn in out:
            return out[urn]
        r = by_urn.get(urn)
        if r is None or not r.parent:
            found = ""
        elif r.parent == root:
            found = "" if r.custom else r.name
        else:
            found = owner(r.parent)
        out[urn] = found
        return found

    for r in capture.resources:
        owner(r.urn)
    return out
