"""The Vault provider authenticates from its environment, never from a token in the program.

``vault-provider-no-static-token``: ``pulumi:providers:vault`` (explicit providers, and the default
provider configured by ``vault:token`` in the stack) has no plaintext ``token``. Offline, a
secret-marked or unknown value is fine; under the engine secretness is invisible (CrossGuard), so a
known token passes only if ``token`` is listed in ``additionalSecretOutputs``.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import Category, Severity
from policies.vault.common import PROVIDER, plaintext

SPEC = Spec(
    id="vault-provider-no-static-token",
    description="The Vault provider holds no plaintext token (a root or any other static token); it "
    "reads VAULT_TOKEN (or an auth_login method) from its environment",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Remove token from the provider arguments and the stack config (`vault:token`); "
    "export VAULT_TOKEN in the shell or CI job that runs Pulumi, or configure an auth_login block "
    "(e.g. JWT from the CI's OIDC token). If a token must be passed, pass it as a Pulumi secret.",
    resource_types=(PROVIDER,),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if plaintext(r, "token"):
        report(
            "token holds a static Vault token in plaintext (provider inputs are stored in state)"
        )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
