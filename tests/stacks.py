"""The project's stack configs narrowed to some backends, for tests that plan a subset."""

from __future__ import annotations

import json

NS = "neural-trader-secrets:"
#: Every backend the project's stack files enable (and give a block).
STACK_BACKENDS = ("aws", "vault", "gcp", "azure", "kubernetes")


def enable_only(config: dict[str, str], backends: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``config`` with ``backends`` enabled (in that order) and the blocks of every other backend
    the stack files configure dropped (a block for a backend that is not enabled is refused)."""
    config[NS + "backends"] = json.dumps(list(backends))
    for other in STACK_BACKENDS:
        if other not in backends:
            config.pop(NS + other, None)
    return config
