"""The Pulumi program: read and validate the stack's settings, compute the estate, and let every
enabled backend declare its resources.

Settings are validated before anything is registered: a stack with bad settings registers nothing
and fails with one message naming every bad key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra import backends
from infra.catalog import Catalog, catalog_at
from infra.estate import Estate
from infra.settings import StackSettings
from infra.stack import build_estate, parse_settings


def stack_config() -> tuple[dict[str, Any], list[str]]:
    """The whole config of the running stack (all namespaces) and which keys are secret."""
    raw: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    env_secret = set(runtime_config.get_config_secret_keys_env())
    secret = sorted(k for k in raw if k in env_secret or runtime_config.is_config_secret(k))
    return raw, secret


def load_settings(catalog: Catalog | None = None) -> StackSettings:
    raw, secret_keys = stack_config()
    return parse_settings(raw, secret_keys=secret_keys, catalog=catalog)


def build(settings: StackSettings, estate: Estate) -> None:
    """Register every enabled backend's component, in ``backends`` order, and export what each
    holds. A consumer (:class:`infra.backends.Consumer`, e.g. Kubernetes) is handed the exports
    of the sources deployed before it (the settings check refused any other order) and the whole
    estate: it delivers each secret from its home store."""
    from infra.backends.values import SecretValues

    # One value per secret, made once: every copy (home and replicas) carries it.
    values = SecretValues("values", estate)
    deployed: dict[str, backends.Upstream] = {}
    for backend, block in backends.enabled(settings):
        if isinstance(backend, backends.Consumer):
            upstream = {n: deployed[n] for n in backend.sources(settings, block)}
            component = backend.deploy_after(backend.name, estate, block, upstream)
        else:
            # A store is handed only what it holds: the secrets it is home to, and replicas.
            view = estate.held_by(backend.name)
            component = backend.deploy(backend.name, view, block, values)
        deployed[backend.name] = backends.Upstream(backend, block, component.exports)
        pulumi.export(backend.name, component.exports)
    if settings.esc is not None:
        from infra.esc import definitions
        from infra.esc_resources import EscEnvironmentsComponent

        envs = definitions(pulumi.get_project(), pulumi.get_stack(), settings, estate)
        esc = EscEnvironmentsComponent("esc", envs, settings.esc.organization)
        pulumi.export("escEnvironments", esc.exports)
    # Revoked secrets, so the incident is visible in `pulumi stack output`.
    pulumi.export("revokedSecrets", [s.name for s in estate.revoked])
    pulumi.export("environment", estate.environment.value)


def main(catalog_path: Path | None = None) -> None:
    """Entry point used by ``infra/__main__.py`` (pulumi up) and by ``nt-secrets plan``
    (which may point it at another catalog file to try a change offline)."""
    catalog = catalog_at(catalog_path)
    settings = load_settings(catalog)
    build(settings, build_estate(catalog, settings))
