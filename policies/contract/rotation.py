"""Rotation classes and their periods (seed document, section 4.1). Pure data, standard library
only: the program's catalog and rotation contract (``infra/rotation/contract.py``, which ships in
the rotation Lambda) and the pack's rotation policies read the schedule from here."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


class RotationClass(StrEnum):
    """Value of the ``rotation-class`` label (drives the schedule, seed doc section 4.1)."""

    API_KEY = "api_key"  # pragma: allowlist secret (class names, not secrets)
    DATABASE_PASSWORD = "database_password"  # pragma: allowlist secret
    JWT_SECRET = "jwt_secret"  # pragma: allowlist secret
    ENCRYPTION_KEY = "encryption_key"  # pragma: allowlist secret

    @property
    def max_age_days(self) -> int:
        return ROTATION_DAYS[self]


#: Rotation schedule in days per class (seed doc, section 4.1).
ROTATION_DAYS: Final[Mapping[RotationClass, int]] = {
    RotationClass.API_KEY: 90,
    RotationClass.DATABASE_PASSWORD: 180,
    RotationClass.JWT_SECRET: 365,
    RotationClass.ENCRYPTION_KEY: 730,
}
