"""Lint of ``Pulumi.<stack>.yaml``, of ``Pulumi.yaml``'s ``config:`` block and of the ESC
environment files a stack imports (``environments/<project>/<env>.yaml``): a plaintext value that
looks like a credential is a violation, and so is an environment's ``fn::secret`` given a literal.

The engine's policy packs never see stack files, so this check runs wherever the project reads one
(``nt-secrets plan`` and ``nt-secrets check --stack``). Values set with ``pulumi config set
--secret`` are ciphertext (``secure:``) and are not examined.
"""

from __future__ import annotations

from nt_secrets.stackfile import StackConfig
from policies.lib.credentials import scan_value
from policies.model import Category, Enforcement, PolicyInfo, Severity, Violation

STACK_FILE_POLICY = PolicyInfo(
    id="pulumi-stackconfig-plaintext-credentials",
    description="Stack configuration files hold no credential in plaintext",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    category=Category.PLAINTEXT,
    remediation="Remove the value from the file and set it with `pulumi config set --secret <key>`; "
    "rotate the credential, since it has been committed.",
    checkov=("CKV_SECRET_2", "CKV_SECRET_6"),
)


def lint_stack_file(config: StackConfig) -> list[Violation]:
    violations: list[Violation] = []
    files = [(config.path.name, leaf) for leaf in config.plaintext_leaves]
    if config.project_path is not None:
        files += [(config.project_path.name, leaf) for leaf in config.project_plaintext_leaves]
    for file_name, (path, value) in files:
        leaf = path.rsplit(".", 1)[-1].split(":", 1)[-1]
        for hit in scan_value({leaf: value}):
            violations.append(
                Violation(
                    policy=STACK_FILE_POLICY.id,
                    severity=STACK_FILE_POLICY.severity,
                    enforcement=STACK_FILE_POLICY.enforcement,
                    category=STACK_FILE_POLICY.category,
                    urn=None,
                    message=f"{file_name}: {path}: {hit.kind} ({hit.hint})",
                    checkov=STACK_FILE_POLICY.checkov,
                )
            )
    # The ESC environments the stack imports: committed files too (nt_secrets/escenv.py).
    for file_name, path, key, value in config.environment_plaintext_leaves:
        for hit in scan_value({key.split(":", 1)[-1]: value}):
            violations.append(_violation(f"{file_name}: {path}: {hit.kind} ({hit.hint})"))
    for file_name, path in config.environment_plaintext_secrets:
        violations.append(
            _violation(
                f"{file_name}: {path}: a plaintext secret in a committed file (ESC encrypts "
                "fn::secret when the environment is saved to Pulumi Cloud; this file is not): "
                "write fn::secret: {ciphertext: ...} or read it with fn::open"
            )
        )
    if config.project_path is not None:
        for key in config.project_plaintext_secrets:  # whatever its shape: it says it is secret
            violations.append(
                Violation(
                    policy=STACK_FILE_POLICY.id,
                    severity=STACK_FILE_POLICY.severity,
                    enforcement=STACK_FILE_POLICY.enforcement,
                    category=STACK_FILE_POLICY.category,
                    urn=None,
                    message=f"{config.project_path.name}: {key}: declared secret but given a "
                    "plaintext default (Pulumi hands it to the program as plain config)",
                    checkov=STACK_FILE_POLICY.checkov,
                )
            )
    return violations


def _violation(message: str) -> Violation:
    return Violation(
        policy=STACK_FILE_POLICY.id,
        severity=STACK_FILE_POLICY.severity,
        enforcement=STACK_FILE_POLICY.enforcement,
        category=STACK_FILE_POLICY.category,
        urn=None,
        message=message,
        checkov=STACK_FILE_POLICY.checkov,
    )
