"""What a CI job needs to reach every store a stack enables, as GitHub Actions step outputs.

    .venv/bin/python scripts/ci_stack_needs.py --stack dev >> "$GITHUB_OUTPUT"
    .venv/bin/python scripts/ci_stack_needs.py --stack dev --check   # and the variables are set

The stack is read exactly as ``nt-secrets plan`` reads it (stack file, project config, catalog),
so CI stays in step with the stacks: the credential steps of
``.github/actions/cloud-credentials`` run for the backends this prints ``true`` for, and a backend
added to a stack's ``backends`` list without its GitHub variables fails here, naming them.

Printed, one ``key=value`` per line (nothing secret: identifiers the stack file commits anyway):

* ``backends``: the enabled backends, comma-separated, in the stack's order;
* ``<backend>``: ``true``/``false`` for every registered backend;
* ``aws-session``: ``true`` when an AWS session is needed (``aws``, or ``kubernetes``, whose
  kubeconfig comes from the EKS cluster through the AWS session);
* ``aws-region``, ``vault-address``, ``gcp-project``, ``azure-tenant-id``,
  ``azure-subscription-id``: what the logins take from the stack's blocks (empty when disabled).

``--check`` also requires the GitHub variables each enabled backend's login needs (read from the
environment, where the composite action puts them). Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The GitHub variables (GitHub environment or repository) each backend's CI login needs.
REQUIRED_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "aws": ("AWS_ROLE_ARN",),
    "vault": ("VAULT_ROLE",),
    "gcp": ("GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT"),
    "azure": ("AZURE_CLIENT_ID",),
    "kubernetes": ("AWS_ROLE_ARN", "EKS_CLUSTER_NAME"),
}
#: Backends whose delivery needs an AWS session (the kubeconfig of an EKS cluster).
NEEDS_AWS_SESSION = frozenset({"aws", "kubernetes"})


class NeedsError(ValueError):
    """A stack CI cannot log in for (exit 2)."""


def needs(config: Mapping[str, Any], secret_keys: Sequence[str] = ()) -> dict[str, str]:
    """The outputs for a stack's config (``StackConfig.config``), in print order."""
    from infra.backends import enabled, registry
    from infra.catalog import catalog_at
    from infra.stack import parse_settings

    settings = parse_settings(dict(config), secret_keys=tuple(secret_keys), catalog=catalog_at())
    on = {backend.name: block for backend, block in enabled(settings)}
    unknown = sorted(set(registry()) - set(REQUIRED_VARIABLES))
    if unknown:
        raise NeedsError(
            f"backend {unknown[0]!r} has no CI login yet: add it to scripts/ci_stack_needs.py "
            "and .github/actions/cloud-credentials"
        )
    out = {"backends": ",".join(on)}
    out.update({name: _flag(name in on) for name in sorted(registry())})
    out["aws-session"] = _flag(bool(NEEDS_AWS_SESSION & set(on)))
    aws = on.get("aws")
    region = str(aws.region) if aws is not None else str(config.get("aws:region") or "")
    if out["aws-session"] == "true" and not region:
        raise NeedsError(
            "the EKS kubeconfig needs an AWS region: set aws:region (or enable aws) in the stack"
        )
    out["aws-region"] = region if out["aws-session"] == "true" else ""
    vault, gcp, azure = on.get("vault"), on.get("gcp"), on.get("azure")
    out["vault-address"] = str(vault.address).rstrip("/") if vault is not None else ""
    out["gcp-project"] = str(gcp.project) if gcp is not None else ""
    out["azure-tenant-id"] = str(azure.tenant_id) if azure is not None else ""
    out["azure-subscription-id"] = str(azure.subscription_id) if azure is not None else ""
    return out


def missing_variables(outputs: Mapping[str, str], environ: Mapping[str, str]) -> list[str]:
    """The GitHub variables the enabled backends' logins need and ``environ`` lacks, in order."""
    enabled_now = [b for b in outputs["backends"].split(",") if b]
    wanted = [v for b in enabled_now for v in REQUIRED_VARIABLES[b]]
    return [v for v in dict.fromkeys(wanted) if not environ.get(v, "").strip()]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--project-dir", default=str(ROOT))
    parser.add_argument("--check", action="store_true", help="require the login variables")
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    sys.path.insert(0, str(ROOT))
    from infra.catalog import CatalogError
    from infra.settings import SettingsError
    from nt_secrets.stackfile import StackFileError, read_stack

    try:
        config = read_stack(Path(args.project_dir), args.stack)
        outputs = needs(config.config, config.secret_keys)
    except (StackFileError, SettingsError, CatalogError, NeedsError) as exc:
        print(f"error: stack {args.stack}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        missing = missing_variables(outputs, env)
        if missing:
            print(
                f"error: stack {args.stack} enables {outputs['backends'].replace(',', ', ')}: "
                f"set the GitHub variable(s) {', '.join(missing)} on the job's environment "
                "(README, set-up of CI)",
                file=sys.stderr,
            )
            return 2
    sys.stdout.write("".join(f"{key}={value}\n" for key, value in outputs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
