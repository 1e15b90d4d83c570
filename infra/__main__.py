"""Pulumi entry point (Pulumi.yaml: main: infra/). Only wires the program; see infra/program.py."""

import pulumi

from infra.catalog import CatalogError
from infra.settings import SettingsError

try:
    from infra.program import main

    main()
except (CatalogError, SettingsError) as exc:
    # RunError is reported by the engine as a message, without a Python traceback.
    raise pulumi.RunError(str(exc)) from None
