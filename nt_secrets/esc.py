"""``nt-secrets env esc``: the Pulumi ESC environment definitions of a stack, read as ``plan``
reads it (stack file, project config, catalog, placement). The definitions themselves are the
program's (``infra/esc.py``): a stack with an ``esc`` block declares the same environments."""

from __future__ import annotations

from pathlib import Path

from infra.catalog import catalog_at
from infra.esc import LAYERS, EscEnvironments, EscError, definitions, render
from infra.settings import StackSettings
from infra.stack import build_estate, parse_settings
from nt_secrets.stackfile import read_stack

__all__ = ["LAYERS", "EscEnvironments", "EscError", "build", "render"]


def build(project_dir: Path, stack: str, catalog_path: Path | None = None) -> EscEnvironments:
    """Every layer for ``stack``. StackFileError/SettingsError/CatalogError/EscError on bad
    input (exit 2)."""
    config = read_stack(project_dir, stack)
    catalog = catalog_at(catalog_path)
    settings: StackSettings = parse_settings(
        config.config, secret_keys=config.secret_keys, catalog=catalog
    )
    estate = build_estate(catalog, settings)
    return definitions(config.project, stack, settings, estate)
