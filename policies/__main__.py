"""CrossGuard entry point: `pulumi preview --policy-pack policies`, or the published pack.

Only builds the pack; the PolicyPack constructor starts the analyzer server and never returns, so
the policies live in importable modules (policies/pack.py) that the offline runner uses too.

The Python analyzer runs this file with ``runpy.run_path(<pack directory>)``: the pack directory
is on ``sys.path``, its parent is not, and once published the directory is
``~/.pulumi/policies/<org>/<pack>/<version>/``, not ``policies/``. So before anything imports
``policies.*``, this directory registers itself as the ``policies`` package: the pack always runs
its own code, whatever the directory is called and whether or not the project is installed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _register_pack_package(name: str = "policies") -> None:
    """Make this directory the ``policies`` package (unless it already is)."""
    here = Path(__file__).resolve().parent
    loaded = sys.modules.get(name)
    if loaded is not None and here in {Path(p).resolve() for p in getattr(loaded, "__path__", [])}:
        return
    spec = importlib.util.spec_from_file_location(
        name, here / "__init__.py", submodule_search_locations=[str(here)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - __init__.py ships with the pack
        raise ImportError(f"{here}: no __init__.py, not a policy pack directory")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_register_pack_package()

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pack import ALL, PACK_DESCRIPTION, PACK_NAME  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[p.policy for p in ALL],
)
