"""The value a store puts into a secret, shared by every backend's adapter: generated material
from pulumi-random (always a Pulumi secret), a third-party value the stack config supplies, or
nothing for a value that arrives out of band. Imported only by ``deploy`` code (it needs Pulumi).
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from infra.catalog import HexGenerator, PasswordGenerator, PostgresUrlGenerator
from infra.estate import GeneratedValue, StoredSecret, SuppliedValue
from infra.settings import PROJECT


def secret_value(stored: StoredSecret, parent: pulumi.Resource) -> pulumi.Output[str] | None:
    """The value the infrastructure owns for ``stored`` (random material parented to ``parent``),
    as a Pulumi secret; None for third-party keys whose value arrives out of band."""
    value = stored.value
    if isinstance(value, SuppliedValue):
        return pulumi.Config(PROJECT).require_secret(stored.name)
    if not isinstance(value, GeneratedValue):
        return None
    opts = pulumi.ResourceOptions(parent=parent)
    gen = value.generator
    material = f"{stored.logical_name}-material"
    if isinstance(gen, HexGenerator):
        return pulumi.Output.secret(random.RandomBytes(material, length=gen.bytes, opts=opts).hex)
    pw = random.RandomPassword(material, length=gen.length, special=False, opts=opts)
    if isinstance(gen, PasswordGenerator):
        return pulumi.Output.secret(pw.result)
    assert isinstance(gen, PostgresUrlGenerator) and value.database is not None
    db = value.database
    return pulumi.Output.secret(
        pulumi.Output.format(
            "postgresql://{0}:{1}@{2}:{3}/{4}?sslmode={5}",
            db.username,
            pw.result,
            db.host,
            db.port,
            db.database,
            db.sslmode,
        )
    )
