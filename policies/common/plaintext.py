"""No credential in plaintext anywhere: tags, descriptions, Lambda environment variables, ConfigMaps,
container env, provider configuration, policy text... in every resource of every provider.

Detection is ``policies.lib.credentials`` (detect-secrets plugins plus the formats of the seed
document). Fields that exist to hold secrets are judged by ``all-secret-values-marked-secret``.
A credential in a field the cloud stores in plaintext (tags, descriptions, environment variables,
ConfigMaps) is a violation even when Pulumi marks it secret: the marker protects Pulumi's state,
not the cloud's copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from policies.common.secret_values import secret_value_paths
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import scan_value
from policies.model import UNKNOWN, Category, Severity

#: Paths the cloud keeps in plaintext whatever Pulumi does with the value: tags, labels,
#: descriptions, function environments, instance user data and startup scripts (readable by
#: anyone who can describe the instance), and container environments, arguments and commands
#: (Kubernetes, ECS, Cloud Run, Container Instances: shown by every describe/get).
ALWAYS_PLAINTEXT = re.compile(
    r"^(tags|tagsAll|labels|description|environment\.variables|metadata\.(labels|annotations)"
    r"|userData|userDataBase64|metadataStartupScript|metadata\.startup-script|containerDefinitions"
    r"|spec\.template\.spec\.containers\[\d+\]\.env)(\b|\.|\[|$)"
    r"|(^|\.)(containers|initContainers)\[\d+\]\.(env|envs|args|command|environmentVariables)"
    r"(\.|\[|$)"
)
#: ConfigMaps are plaintext by design.
CONFIG_MAPS = ("kubernetes:core/v1:ConfigMap",)

SPEC = Spec(
    id="all-no-plaintext-credentials",
    description="No resource input holds a credential in plaintext (tags, descriptions, environment "
    "variables, ConfigMaps, provider configuration, policy text...)",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Keep the credential in a secret manager and pass a reference (secret ARN/name) to "
    "the resource; where a field must hold the credential itself, pass a Pulumi secret.",
    checkov=("CKV_AWS_45", "CKV_AWS_46", "CKV_SECRET_2", "CKV_SECRET_6"),
)


def known(value: Any) -> Any:
    """Props without unknown leaves (an unknown value holds no credential yet)."""
    if isinstance(value, dict):
        return {k: known(v) for k, v in value.items() if v != UNKNOWN}
    if isinstance(value, list):
        return [known(v) for v in value if v != UNKNOWN]
    return value


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    skip = secret_value_paths(r)
    for hit in scan_value(known(r.props)):
        if _under(hit.path, skip):
            continue
        if r.type not in CONFIG_MAPS and not ALWAYS_PLAINTEXT.search(hit.path):
            marked = r.is_secret(hit.path)
            if marked:
                continue  # a credential input passed as a Pulumi secret (e.g. a database password)
            if (
                marked is None
                and hit.path.split(".", 1)[0].split("[", 1)[0] in r.additional_secret_outputs
            ):
                continue
        report(f"{hit.path}: {hit.kind} ({hit.hint})")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
