"""Lambda functions and their invoke permissions."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import (
    is_sensitive_key,
    looks_like_placeholder,
    names_a_reference,
    scan_value,
    value_could_be_secret,
)
from policies.lib.iam import unscoped_resource
from policies.lib.shapes import declare, pick, reveal, setting
from policies.model import CIPHERTEXT, UNKNOWN, Category, Severity

PERMISSION = Spec(
    id="aws-lambda-permission-scoped",
    description="Lambda invoke permissions name their caller: no '*' principal, and AWS service "
    "principals are limited by SourceArn or SourceAccount",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set principal to the calling service and source_arn (or source_account) to the "
    "resource that may invoke, e.g. the secret being rotated.",
    resource_types=("aws:lambda/permission:Permission",),
    checkov=("CKV_AWS_364",),
)


PERMISSION_TYPE = "aws:lambda/permission:Permission"
PERMISSION_FIELDS = tuple(
    declare((PERMISSION_TYPE,), k)
    for k in ("principal", "sourceArn", "sourceAccount", "principalOrgId")
)


def _permission(r: Resource, report: Callable[[str], None]) -> None:
    principal, source_arn, account, org = (setting(r.props, k) for k in PERMISSION_FIELDS)
    if principal == UNKNOWN:
        return
    # A wildcard scope is no scope: "arn:aws:s3:::*", an account "*", an org id with "*".
    scoped = (
        (isinstance(source_arn, str) and source_arn != "" and not unscoped_resource(source_arn))
        or (
            isinstance(account, str) and account != "" and "*" not in account and "?" not in account
        )
        or (isinstance(org, str) and org != "" and "*" not in org and "?" not in org)
    )
    if principal == "*" and not scoped:
        report("principal '*' can invoke the function")
    elif isinstance(principal, str) and principal.endswith(".amazonaws.com") and not scoped:
        report(f"{principal} may invoke on behalf of any account: set sourceArn or sourceAccount")


ENV = Spec(
    id="aws-lambda-env-references-only",
    description="Lambda environment variables named like credentials hold references (secret ARNs "
    "or names), never the credential: the function configuration stores them in plaintext",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Put the value in Secrets Manager, pass its ARN (e.g. OPENAI_API_KEY_SECRET_ARN) and "
    "read it at start-up with the function role's secretsmanager:GetSecretValue.",
    resource_types=("aws:lambda/function:Function",),
    checkov=("CKV_AWS_45",),
)


#: ``environment`` is a maxItems-1 block (singular in pulumi-aws 6 and 7), ``variables`` a map
ENV_VARIABLES = declare(("aws:lambda/function:Function",), "environment.variables")


def _env(r: Resource, report: Callable[[str], None]) -> None:
    for variables in pick(r.props, ENV_VARIABLES):
        if not isinstance(variables, Mapping):
            continue  # unreadable (ciphertext, unknown at preview) or not a map
        for name, raw in sorted(variables.items()):
            value = reveal(raw)
            if (
                not isinstance(value, str)
                or value in (UNKNOWN, "")
                or not is_sensitive_key(str(name))
            ):
                continue
            # a reference is not the credential: an ARN, a secret's or parameter's name or path,
            # a chart-style name of a Secret (OPENAI_API_KEY_SECRET=openai-api-key), a template;
            # a value in a credential's own format is one whatever its name
            if scan_value({str(name): value}) or (
                not value.startswith("arn:")
                and not looks_like_placeholder(value)
                and not names_a_reference(str(name), value)
                and value_could_be_secret(value)
            ):
                report(f"environment.variables.{name} holds a value, not a reference")


INVOCATION = Spec(
    id="aws-lambda-invocation-no-credentials",
    description="Deploy-time Lambda invocations carry no credential in their payload (Pulumi keeps "
    "the payload and the result in state)",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Pass names or ARNs in the payload and let the function read the secret itself.",
    resource_types=("aws:lambda/invocation:Invocation",),
)


INVOCATION_INPUT = declare(("aws:lambda/invocation:Invocation",), "input")
URL_AUTH = declare(("aws:lambda/functionUrl:FunctionUrl",), "authorizationType")


def _invocation(r: Resource, report: Callable[[str], None]) -> None:
    payload = setting(r.props, INVOCATION_INPUT)
    if not isinstance(payload, str) or payload in (UNKNOWN, CIPHERTEXT):
        return
    for hit in scan_value({"input": payload}):
        report(f"{hit.path}: {hit.kind} ({hit.hint})")


URL = Spec(
    id="aws-lambda-url-authenticated",
    description="Lambda function URLs require IAM authentication",
    severity=Severity.CRITICAL,
    category=Category.PUBLIC_ACCESS,
    remediation="Set authorizationType to AWS_IAM, or put the function behind an authenticated API.",
    resource_types=("aws:lambda/functionUrl:FunctionUrl",),
    checkov=("CKV_AWS_258",),
)


def _url(r: Resource, report: Callable[[str], None]) -> None:
    if setting(r.props, URL_AUTH) == "NONE":
        report("authorizationType NONE: anyone on the internet can invoke the function")


POLICIES: list[PackPolicy] = [
    resource_policy(URL, _url),
    resource_policy(PERMISSION, _permission),
    resource_policy(ENV, _env),
    resource_policy(INVOCATION, _invocation),
]
