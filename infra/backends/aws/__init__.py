"""AWS Secrets Manager: the backend that keeps the estate in one account and region.

Settings block ``neural-trader-secrets:aws`` (:class:`AwsSettings`). Resources: a customer-managed
KMS key per environment, a secret per stored entry at ``neural-trader/<environment>/<service>/<key>``
with a resource policy, the six IAM roles of the access model, the rotation Lambda and, in
production, CloudTrail (``components.py``, ``rotation.py``; policy documents in ``documents.py``).

Importing this package registers the backend; it imports no Pulumi SDK (``deploy`` does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from infra.access import RoleName
from infra.backends import StoreAddress, register
from infra.backends.aws.naming import SECRET_NAME_RE, SECRET_NAME_RULE, Naming, secret_name
from infra.backends.aws.settings import AwsSettings, OidcPrincipal, master_secret_problems
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, StackSettings

if TYPE_CHECKING:
    import pulumi

    from infra.backends.aws.components import AwsSecrets
    from infra.backends.values import SecretValues
    from infra.estate import Estate


class AwsBackend:
    name: str = "aws"
    title: str = "AWS Secrets Manager"
    settings_model: type[BaseModel] = AwsSettings

    def check(self, settings: StackSettings, block: Any) -> Iterator[tuple[str, str]]:
        assert isinstance(block, AwsSettings)
        yield from master_secret_problems(settings, block)

    def name_problems(
        self, entry: CatalogEntry, environment: Environment, block: Any
    ) -> Iterator[str]:
        del block  # Secrets Manager names depend on the environment and the entry only
        name = secret_name(entry, environment)
        if not SECRET_NAME_RE.fullmatch(name):
            yield f"cannot hold the name {name!r} ({SECRET_NAME_RULE})"

    def locations(self, estate: Estate, block: Any) -> Mapping[str, str]:
        naming = Naming(estate.environment, block)
        return {s.name: naming.secret_arn(s.entry) + "-??????" for s in estate.secrets}

    def identities(self, estate: Estate, block: Any) -> Mapping[RoleName, str]:
        naming = Naming(estate.environment, block)
        assert isinstance(block, AwsSettings)
        return {r: naming.role_arn(r) for r in estate.roles if block.principals.for_role(r)}

    def store_addresses(
        self, estate: Estate, block: Any, exports: Mapping[str, Any]
    ) -> Mapping[str | None, StoreAddress]:
        del estate, exports
        assert isinstance(block, AwsSettings)
        return {None: StoreAddress(address=block.region)}

    def remote_keys(self, estate: Estate, block: Any) -> Mapping[str, tuple[str | None, str]]:
        del block
        return {s.name: (None, secret_name(s.entry, estate.environment)) for s in estate.secrets}

    def kubernetes_login_problems(
        self, block: Any, role: RoleName, namespace: str, account: str
    ) -> Iterator[tuple[str | None, str]]:
        """IRSA: the role's trust policy names an OIDC provider with the service account's
        subject (``aws.principals.<role>``)."""
        assert isinstance(block, AwsSettings)
        subject = f"system:serviceaccount:{namespace}:{account}"
        if not any(
            isinstance(p, OidcPrincipal) and subject in p.subjects
            for p in block.principals.for_role(role)
        ):
            yield (
                None,
                f"cannot assume the AWS role: {NAMESPACE}aws.principals.{role} names no OIDC "
                f"provider with the subject {subject} (IRSA)",
            )

    def deploy(
        self,
        name: str,
        estate: Estate,
        block: Any,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> AwsSecrets:
        from infra.backends.aws.components import AwsSecrets

        assert isinstance(block, AwsSettings)
        return AwsSecrets(name, estate, block, values, opts=opts)


BACKEND = register(AwsBackend())


def aws_settings(settings: StackSettings) -> AwsSettings:
    """The stack's validated AWS block (the stack must enable the AWS backend)."""
    block = settings.backend("aws")
    assert isinstance(block, AwsSettings)
    return block
