"""One value per secret: the material the infrastructure owns for each secret of the stack, made
once and handed to every store that holds a copy (its home and its replicas).

Generated material comes from pulumi-random (always a Pulumi secret); a third-party value the
stack config supplies is read once from the config; a value that arrives out of band has no
material here. No store generates its own: a store adapter asks :meth:`SecretValues.value`.
Imported only by ``deploy`` code (it needs Pulumi).
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from infra.catalog import HexGenerator, PasswordGenerator, PostgresUrlGenerator
from infra.estate import Estate, GeneratedValue, StoredSecret, SuppliedValue
from infra.settings import PROJECT

#: The component's type token (its children are the stack's only ``random:*`` resources).
TYPE = "neural-trader:values:SecretValues"


def _material(stored: StoredSecret, parent: pulumi.Resource) -> pulumi.Output[str] | None:
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


class SecretValues(pulumi.ComponentResource):
    """The stack's secret values: one material per generated secret, one config read per
    supplied one. Every copy of a secret (home and replicas) carries the same output."""

    def __init__(
        self, name: str, estate: Estate, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self._values = {s.name: _material(s, self) for s in estate.secrets}
        self.register_outputs({})

    def value(self, stored: StoredSecret) -> pulumi.Output[str] | None:
        """The value of ``stored`` as a Pulumi secret; None for a third-party key whose value
        arrives out of band (put by an operator or the provider into its home store)."""
        return self._values.get(stored.name)
