"""Reading YAML the project's users write (catalog, stack files) with errors fit to show, bounded
against alias bombs. Defined in the policy pack's contract (:mod:`policies.contract.yamlio`), which
the pack's catalog reader uses too; re-exported here for the program's readers."""

from __future__ import annotations

from policies.contract.yamlio import (
    EXPANSION_FLOOR as EXPANSION_FLOOR,
)
from policies.contract.yamlio import (
    EXPANSION_RATIO as EXPANSION_RATIO,
)
from policies.contract.yamlio import (
    MAX_DEPTH as MAX_DEPTH,
)
from policies.contract.yamlio import (
    YamlProblem as YamlProblem,
)
from policies.contract.yamlio import (
    _Loader as _Loader,
)
from policies.contract.yamlio import (
    load_yaml as load_yaml,
)
from policies.contract.yamlio import (
    measure as measure,
)
