"""Numbers the Vault harness reports at the end of the run (see conftest.pytest_terminal_summary)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Report:
    #: stack -> role x secret x operation checks done (KV matrix).
    kv_checks: Counter[str] = field(default_factory=Counter)
    #: stack -> role x purpose x transit operation checks done.
    transit_checks: Counter[str] = field(default_factory=Counter)
    #: stack -> seconds spent in the KV matrix checks.
    kv_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    started: float | None = None
    finished: float | None = None


REPORT = Report()
