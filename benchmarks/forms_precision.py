"""Precision of the pack on the provider-form tables (issue 21 class 1): every row of
``tests/policies/test_forms_*.py`` judged as plan records and as a state; counts the compliant
look-alikes flagged (false positives: findings no row expects) and the expected findings missed.

    .venv/bin/python -m benchmarks.forms_precision
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import tests.policies
from tests.policies.forms import FormCase, judge


def main() -> int:
    totals = {"look-alike judgements": 0, "look-alikes flagged": 0, "false findings": 0}
    totals |= {"violating judgements": 0, "expected findings": 0, "missed": 0}
    for info in sorted(pkgutil.iter_modules(tests.policies.__path__), key=lambda m: m.name):
        if not info.name.startswith("test_forms_"):
            continue
        module = importlib.import_module(f"tests.policies.{info.name}")
        cases: list[FormCase] = module.CASES
        row = {"look-alikes": 0, "flagged": 0, "violating": 0, "missed": 0}
        for case in cases:
            for form in ("records", "state"):
                if form == "records" and case.state_only:
                    continue
                got = judge(case, form)
                extra, missed = got - case.expected, case.expected - got
                if case.lookalike:
                    row["look-alikes"] += 1
                    row["flagged"] += bool(extra)
                    totals["false findings"] += len(extra)
                else:
                    row["violating"] += 1
                    totals["expected findings"] += len(case.expected)
                    totals["false findings"] += len(extra)
                row["missed"] += len(missed)
        totals["look-alike judgements"] += row["look-alikes"]
        totals["look-alikes flagged"] += row["flagged"]
        totals["violating judgements"] += row["violating"]
        totals["missed"] += row["missed"]
        print(
            f"{info.name[len('test_forms_') :]:<12} look-alikes {row['look-alikes']:>3}, "
            f"flagged {row['flagged']:>3}; violating {row['violating']:>3}, "
            f"expected findings missed {row['missed']:>3}"
        )
    print("; ".join(f"{k} {v}" for k, v in totals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
