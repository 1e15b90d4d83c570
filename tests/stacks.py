"""The project's stack configs narrowed to some backends, for tests that plan a subset."""

from __future__ import annotations

import json

NS = "neural-trader-secrets:"
#: Every backend the project's stack files enable (and give a block).
STACK_BACKENDS = ("aws", "vault", "gcp", "azure", "kubernetes")


def enable_only(
    config: dict[str, str], backends: tuple[str, ...] | list[str], home: str | None = None
) -> dict[str, str]:
    """``config`` with ``backends`` enabled (in that order) and the blocks of every other backend
    the stack files configure dropped (a block for a backend that is not enabled is refused).

    ``home``: every stored secret lives there (a store's own tests judge its adapter on every
    kind of secret). Otherwise the stack's placement keeps the rules whose stores stay enabled;
    a secret whose home is dropped moves to the default home, or to the first enabled store when
    the default went too.
    """
    if home is not None:
        config[NS + "placement"] = json.dumps({"home": home})
    config[NS + "backends"] = json.dumps(list(backends))
    for other in STACK_BACKENDS:
        if other not in backends:
            config.pop(NS + other, None)
    raw = config.get(NS + "placement")
    if raw is not None:
        placement = json.loads(raw) if isinstance(raw, str) else dict(raw)
        stores = [b for b in backends if b != "kubernetes"]
        if placement.get("home") not in stores:
            placement["home"] = stores[0]
        for key in ("scopes", "services", "secrets"):
            rules = {k: v for k, v in (placement.get(key) or {}).items() if v in stores}
            placement[key] = rules
        replicas = {
            name: [s for s in where if s in stores]
            for name, where in (placement.get("replicas") or {}).items()
        }
        placement["replicas"] = {name: where for name, where in replicas.items() if where}
        config[NS + "placement"] = json.dumps(placement)
    kube = config.get(NS + "kubernetes")
    if kube is not None and "kubernetes" in backends:
        block = json.loads(kube) if isinstance(kube, str) else dict(kube)
        block["stores"] = [s for s in block.get("stores", []) if s in backends]
        config[NS + "kubernetes"] = json.dumps(block)
    return config
