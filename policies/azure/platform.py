"""What surrounds the vaults: how the deployer authenticates, who may act as a workload identity,
how long the audit log is kept, where near-expiry events go.

* ``azure-provider-no-static-credentials``: Azure providers authenticate with the deployer's
  login or OIDC, never a client secret, certificate or token written into the stack.
* ``azure-federated-credential-exact-subject``: a federated identity credential trusts one
  Kubernetes service account (``system:serviceaccount:<namespace>:<name>``, no wildcard) of an
  https issuer, for the token-exchange audience only.
* ``azure-log-analytics-retention``: the workspace keeping audit logs keeps them at least
  ``minimumDays``.
* ``azure-eventgrid-delivery-https``: event subscriptions deliver to webhooks over https only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, number, resource_policy
from policies.lib.shapes import declare, pick, setting, written
from policies.model import UNKNOWN, Category, Severity
from policies.profile import Profile

PROVIDERS = ("pulumi:providers:azure-native", "pulumi:providers:azure")
FEDERATED = (
    "azure-native:managedidentity:FederatedIdentityCredential",
    "azure:armmsi/federatedIdentityCredential:FederatedIdentityCredential",
)
WORKSPACES = (
    "azure-native:operationalinsights:Workspace",
    "azure:operationalinsights/analyticsWorkspace:AnalyticsWorkspace",
)
EVENT_SUBSCRIPTIONS = (
    "azure-native:eventgrid:SystemTopicEventSubscription",
    "azure-native:eventgrid:EventSubscription",
    "azure:eventgrid/systemTopicEventSubscription:SystemTopicEventSubscription",
    "azure:eventgrid/eventSubscription:EventSubscription",
)
TOKEN_EXCHANGE = "api://AzureADTokenExchange"
SUBJECT_RE = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
)
#: The settings read as azure-native 3 spells them (inputs and outputs alike), any of them in a
#: secret envelope; the classic provider's names are read too (not declared: pulumi-azure is
#: not installed to check them against).
SUBJECT = declare(FEDERATED[:1], "subject")
ISSUER = declare(FEDERATED[:1], "issuer")
AUDIENCES = declare(FEDERATED[:1], "audiences")
RETENTION_DAYS = declare(WORKSPACES[:1], "retentionInDays")
#: A webhook's URL: the destination of an event subscription, or the destination it reaches
#: with a managed identity (``deliveryWithResourceIdentity``); classic ``webhookEndpoint.url``.
WEBHOOK_URLS = (
    declare(EVENT_SUBSCRIPTIONS[:1], "destination.endpointUrl"),
    declare(EVENT_SUBSCRIPTIONS[:1], "deliveryWithResourceIdentity.destination.endpointUrl"),
    "webhookEndpoint.url",
)
STATIC_CREDENTIALS = (
    "clientSecret",
    "clientCertificatePassword",
    "clientCertificatePath",
    "clientCertificate",
    "oidcToken",
    "oidcRequestToken",
)

PROVIDER_CREDENTIALS = Spec(
    id="azure-provider-no-static-credentials",
    description="Azure providers authenticate with the deployer's login or OIDC, never a client "
    "secret, certificate or token in the stack",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Remove clientSecret/clientCertificate*/oidcToken from the provider; use "
    "`az login` locally and OIDC (useOidc with the CI's token) in pipelines.",
    resource_types=PROVIDERS,
)


def _provider(r: Resource, report: Callable[[str], None]) -> None:
    # a secret-marked credential (ciphertext in a state) is one all the same; unknown at preview
    # or empty is none
    present = [k for k in STATIC_CREDENTIALS if written(r.props.get(k))]
    if present:
        report(f"static credentials configured: {', '.join(present)}")


FEDERATION = Spec(
    id="azure-federated-credential-exact-subject",
    profile=Profile.MIXED,
    house="the project federates Kubernetes service accounts only (kubernetesSubjectOnly); universally any exact subject without a wildcard (a GitHub Actions environment, say) is accepted; https issuer and the token-exchange audience either way",
    description="Federated identity credentials trust one Kubernetes service account of an "
    "https issuer, for the token-exchange audience only",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set subject to system:serviceaccount:<namespace>:<name>, issuer to the "
    "cluster's https OIDC issuer and audiences to [api://AzureADTokenExchange].",
    resource_types=FEDERATED,
    config={
        "kubernetesSubjectOnly": {
            "type": "boolean",
            "description": "the subject must be a Kubernetes service account; default true under "
            "the project profile, false otherwise (then any exact subject without a wildcard)",
        }
    },
    profile_defaults={"kubernetesSubjectOnly": (True, False)},
)


def _federation(r: Resource, report: Callable[[str], None]) -> None:
    subject, issuer = setting(r.props, SUBJECT), setting(r.props, ISSUER)
    audiences: Any = pick(r.props, AUDIENCES)  # the list, in an envelope or of envelopes
    if UNKNOWN in audiences:
        audiences = UNKNOWN
    if r.config.get("kubernetesSubjectOnly", True):
        if subject != UNKNOWN and not (isinstance(subject, str) and SUBJECT_RE.fullmatch(subject)):
            report("subject is not exactly one Kubernetes service account")
    elif subject != UNKNOWN and not (isinstance(subject, str) and _exact(subject)):
        report("subject is not one exact subject (empty, or a wildcard)")
    if issuer != UNKNOWN and not (isinstance(issuer, str) and issuer.startswith("https://")):
        report("issuer is not an https URL")
    if audiences != UNKNOWN and audiences != [TOKEN_EXCHANGE]:
        report(f"audiences are not [{TOKEN_EXCHANGE}]")


def _exact(subject: str) -> bool:
    """One exact subject: not empty, no wildcard (a federated credential matches its subject
    literally; a '*' there is a sign the author expected a pattern)."""
    return bool(subject.strip()) and "*" not in subject


RETENTION = Spec(
    id="azure-log-analytics-retention",
    description="Log Analytics workspaces keep logs at least minimumDays (Key Vault audit)",
    severity=Severity.MEDIUM,
    category=Category.AUDIT,
    remediation="Set retentionInDays (classic: retentionInDays) to at least 90.",
    resource_types=WORKSPACES,
    config={
        "minimumDays": {
            "type": "integer",
            "minimum": 30,
            "default": 90,
            "description": "least retention of a workspace (days)",
        }
    },
)


def _retention(r: Resource, report: Callable[[str], None]) -> None:
    raw = setting(r.props, RETENTION_DAYS)
    if raw == UNKNOWN:
        return
    days = 30.0 if raw is None else number(raw)  # the service's default is 30 days
    minimum = int(r.config.get("minimumDays") or 90)
    if days is None or days < minimum:
        report(f"retentionInDays is {raw!r}: audit logs are kept less than {minimum} days")


DELIVERY = Spec(
    id="azure-eventgrid-delivery-https",
    description="Event Grid subscriptions deliver to webhooks over https only",
    severity=Severity.MEDIUM,
    category=Category.ENCRYPTION,
    remediation="Use an https:// endpointUrl, or deliver to an Azure Monitor alert, queue or "
    "function.",
    resource_types=EVENT_SUBSCRIPTIONS,
)


def _delivery(r: Resource, report: Callable[[str], None]) -> None:
    for url in (url for path in WEBHOOK_URLS for url in pick(r.props, path)):
        if isinstance(url, str) and url != UNKNOWN and not url.startswith("https://"):
            report("delivers to a webhook that is not https: events would travel in clear")


POLICIES: list[PackPolicy] = [
    resource_policy(PROVIDER_CREDENTIALS, _provider),
    resource_policy(FEDERATION, _federation),
    resource_policy(RETENTION, _retention),
    resource_policy(DELIVERY, _delivery),
]
