"""The Pulumi program: read and validate the stack's settings, then wire the backend components.

Settings are validated before anything is registered: a stack with bad settings registers nothing
and fails with one message naming every bad key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra.catalog import Catalog, default_catalog, load_catalog
from infra.settings import StackSettings, parse_settings


def stack_config() -> tuple[dict[str, Any], list[str]]:
    """The whole config of the running stack (all namespaces) and which keys are secret."""
    raw: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    env_secret = set(runtime_config.get_config_secret_keys_env())
    secret = sorted(k for k in raw if k in env_secret or runtime_config.is_config_secret(k))
    return raw, secret


def load_settings(catalog: Catalog | None = None) -> StackSettings:
    raw, secret_keys = stack_config()
    return parse_settings(raw, secret_keys=secret_keys, catalog=catalog)


def build(settings: StackSettings, catalog: Catalog) -> None:
    """Register every component the settings enable."""
    from infra.aws.components import AwsSecrets

    if "aws" in settings.backends:
        aws = AwsSecrets("aws", catalog, settings)
        pulumi.export(
            "aws",
            {
                "keyArn": aws.key.key.arn,
                "secretCount": len(aws.store.secrets),
                "rotatedSecrets": sorted(aws.rotation.rotations) if aws.rotation else [],
                "rotationTopicArn": aws.rotation.topic.arn if aws.rotation else None,
            },
        )
        # Revoked secrets (name -> ARN), so the incident is visible in `pulumi stack output`.
        pulumi.export("revokedSecrets", aws.revoked)
    pulumi.export("environment", settings.environment.value)


def main(catalog_path: Path | None = None) -> None:
    """Entry point used by ``infra/__main__.py`` (pulumi up) and by ``nt-secrets plan``
    (which may point it at another catalog file to try a change offline)."""
    catalog = load_catalog(catalog_path) if catalog_path is not None else default_catalog()
    build(load_settings(catalog), catalog)
