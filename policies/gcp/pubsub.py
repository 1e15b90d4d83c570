"""Pub/Sub (where rotation notices travel) and the GCP provider.

* ``gcp-pubsub-topic-cmek``: a topic is encrypted with a customer-managed key (``kmsKeyName``):
  notices name secrets, and a topic under Google's default key escapes the project's key controls.
* ``gcp-pubsub-push-https``: a push subscription delivers only to an ``https://`` endpoint and
  authenticates (``oidcToken``), so notices never cross the network in clear or unauthenticated.
* ``gcp-provider-no-static-credentials``: the provider authenticates with workload identity or the
  environment's credentials, never a service-account key or access token written into the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, is_set, pick, setting
from policies.model import UNKNOWN, Category, Severity

TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
PROVIDER = "pulumi:providers:gcp"

TOPIC_CMEK = Spec(
    id="gcp-pubsub-topic-cmek",
    description="Pub/Sub topics are encrypted with a customer-managed key (kmsKeyName)",
    severity=Severity.MEDIUM,
    category=Category.ENCRYPTION,
    remediation="Set kmsKeyName to a Cloud KMS key the Pub/Sub service agent may use.",
    resource_types=(TOPIC,),
)


TOPIC_KEY = declare((TOPIC,), "kmsKeyName")
PUSH = declare((SUBSCRIPTION,), "pushConfig")
PUSH_ENDPOINT = declare((SUBSCRIPTION,), "pushConfig.pushEndpoint")
PUSH_OIDC = declare((SUBSCRIPTION,), "pushConfig.oidcToken.serviceAccountEmail")


def _topic_cmek(r: Resource, report: Callable[[str], None]) -> None:
    if is_set(r.props, TOPIC_KEY) is False:
        report("kmsKeyName is not set: the topic uses Google's default encryption")


PUSH_HTTPS = Spec(
    id="gcp-pubsub-push-https",
    description="Push subscriptions deliver only to https endpoints, authenticated with an OIDC token",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Use an https:// pushEndpoint and set pushConfig.oidcToken (or a pull subscription).",
    resource_types=(SUBSCRIPTION,),
)


def _push_https(r: Resource, report: Callable[[str], None]) -> None:
    push = pick(r.props, PUSH)
    if UNKNOWN in push or not any(isinstance(p, Mapping) for p in push):
        return  # a pull subscription (or unreadable)
    endpoint = setting(r.props, PUSH_ENDPOINT)
    if isinstance(endpoint, str) and endpoint != UNKNOWN and not endpoint.startswith("https://"):
        report("pushConfig.pushEndpoint is not https: notices would travel in clear")
    if is_set(r.props, PUSH_OIDC) is False:
        report("pushConfig has no oidcToken: the endpoint cannot authenticate the deliveries")


PROVIDER_CREDENTIALS = Spec(
    id="gcp-provider-no-static-credentials",
    description="GCP providers authenticate with workload identity, never a key or token in the stack",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Remove credentials/accessToken from the provider; use workload identity "
    "federation in CI and the environment's application-default credentials elsewhere.",
    resource_types=(PROVIDER,),
)


def _provider(r: Resource, report: Callable[[str], None]) -> None:
    present = [k for k in ("credentials", "accessToken") if r.get(k) not in (None, "")]
    if present:
        report(f"static credentials configured: {', '.join(present)}")


POLICIES: list[PackPolicy] = [
    resource_policy(TOPIC_CMEK, _topic_cmek),
    resource_policy(PUSH_HTTPS, _push_https),
    resource_policy(PROVIDER_CREDENTIALS, _provider),
]
