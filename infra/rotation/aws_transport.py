"""The AWS transport of the rotation contract: Secrets Manager + Lambda specifics only.

Pure data, no third-party import and no import of the rest of the package (``contract.py``
re-exports these names for existing callers). What is AWS-specific here and nowhere else:

* Secrets Manager calls the rotation Lambda once per step with an event
  ``{"SecretId", "ClientRequestToken", "Step"}``; ``STEP_EVENTS`` maps its ``Step`` names to the
  neutral ``contract.RotationStep`` values (which are the ``Strategy`` method names).
* The *current* / *pending* / *previous* values are the versions carrying the staging labels
  AWSCURRENT / AWSPENDING / AWSPREVIOUS.
* The rotation parameters (``contract.PARAM_*``) travel as the secret's tags, each under the
  parameter's own key (``params_from_tags``).
* The Lambda's handler and runtime settings, and its environment variables.

The Secrets Manager implementation of ``strategies.RotationContext`` is ``aws_context.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

# --- Secrets Manager staging labels ------------------------------------------------------
AWSCURRENT: Final = "AWSCURRENT"
AWSPENDING: Final = "AWSPENDING"
AWSPREVIOUS: Final = "AWSPREVIOUS"

# --- Lambda event ------------------------------------------------------------------------
#: Secrets Manager's ``Step`` values -> ``contract.RotationStep`` values, in protocol order.
STEP_EVENTS: Final[Mapping[str, str]] = {
    "createSecret": "create",
    "setSecret": "set",
    "testSecret": "test",
    "finishSecret": "finish",
}

# --- Lambda environment variables ----------------------------------------------------------
#: SNS topic that receives "rotation due" notices for third-party-manual secrets.
ENV_ROTATION_TOPIC_ARN: Final = "NT_ROTATION_TOPIC_ARN"
#: Optional Secrets Manager endpoint override (VPC endpoint); unset in most deployments.
ENV_SECRETS_MANAGER_ENDPOINT: Final = "SECRETS_MANAGER_ENDPOINT"

# --- Lambda function settings ----------------------------------------------------------------
#: Lambda ``handler`` setting for the zip built by ``infra.rotation.package.build_package``.
LAMBDA_HANDLER: Final = "infra.rotation.handler.lambda_handler"
LAMBDA_RUNTIME: Final = "python3.11"


def params_from_tags(tags: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The rotation parameters of a secret from ``DescribeSecret``'s ``Tags`` list.

    On AWS every parameter is a tag whose key is the parameter key (``rotation-strategy``,
    ``rotation-master-secret``, ...), set by the Pulumi program. Other tags come along
    harmlessly (``environment``, ``service``, ...; some strategies read them too).
    """
    return {str(t["Key"]): str(t["Value"]) for t in tags}
