"""``aws-lambda-env-cmk`` (the concern of checkov CKV_AWS_173, judged otherwise): a Lambda function with environment variables
encrypts them with a customer-managed KMS key (``kmsKeyArn``). Without one Lambda uses the
AWS-managed ``aws/lambda`` key, whose policy no one here controls: anyone allowed
``lambda:GetFunctionConfiguration`` reads the variables in the clear. Credentials never belong in
the environment at all (``aws-lambda-env-references-only``); this is the layer beneath.

The environment is read in every shape (``environment`` as an object or a one-item list, envelopes
at any depth); a function without variables, or with values unknown at preview, is not judged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from policies.aws.secretsmanager import aws_managed_key
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import OPAQUE, declare, pick, reveal
from policies.model import UNKNOWN, Category, Severity

FUNCTION = "aws:lambda/function:Function"
_VARIABLES = declare((FUNCTION,), "environment.variables")

SPEC = Spec(
    id="aws-lambda-env-cmk",
    description="Lambda functions with environment variables encrypt them with a customer-managed "
    "KMS key (kmsKeyArn)",
    severity=Severity.LOW,
    category=Category.ENCRYPTION,
    remediation="Set kmsKeyArn to a customer-managed key whose policy limits kms:Decrypt to the "
    "function's role (and keep credentials out of the environment: pass secret ARNs).",
    resource_types=(FUNCTION,),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    variables = [reveal(v) for v in pick(r.props, _VARIABLES)]
    if not any(v == UNKNOWN or (isinstance(v, Mapping) and v) for v in variables):
        return
    key = reveal(r.props.get("kmsKeyArn"))
    if key == UNKNOWN or key in OPAQUE:
        return
    if not key:
        report(
            "environment variables are encrypted with the AWS-managed aws/lambda key: set kmsKeyArn"
        )
    elif aws_managed_key(key):
        report(f"kmsKeyArn names the AWS-managed key {str(key).rsplit(':', 1)[-1]}")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
