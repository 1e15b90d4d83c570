"""What runs code against the vaults: function (and web) apps and the storage their code lives in.

* ``azure-function-app-secure`` (checkov CKV_AZURE_70, CKV_AZURE_72, CKV_AZURE_145): an App
  Service / Functions app or deployment slot (``WebApp``, ``WebAppSlot``: Consumption, Premium,
  dedicated and Flex Consumption apps alike) takes HTTPS only, allows no FTP (``ftpsState: Disabled``), accepts TLS 1.2 or later,
  allows no remote debugging (a debugger attached to the process reads the secrets in its
  memory) and runs with a managed identity (so it needs no credential in its settings: a Flex
  Consumption app reaches its deployment storage with an identity, not a connection string); its
  authentication settings, where it has them (``WebAppAuthSettingsV2`` and the slot and
  without-secrets variants), do not let tokens and session cookies travel over plain HTTP
  (``httpSettings.requireHttps: false``); basic (user name and password) publishing is off
  (``WebAppFtpAllowed`` / ``WebAppScmAllowed`` and their slot variants with ``allow: false``).
* ``azure-storage-account-secure``: a storage account takes HTTPS only (secure transfer), TLS 1.2
  or later, and allows no anonymous blob access; a blob container is not public.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, falsy, pick, truthy, verdict
from policies.model import Category, Severity

WEB_APP = "azure-native:web:WebApp"
APPS = (WEB_APP, "azure-native:web:WebAppSlot")
BASIC_AUTH = tuple(
    f"azure-native:web:WebApp{kind}Allowed{slot}"
    for kind in ("Ftp", "Scm")
    for slot in ("", "Slot")
)
#: Easy Auth (v2) settings: a resource of their own beside the app, with or without secrets.
AUTH_SETTINGS = tuple(
    f"azure-native:web:WebAppAuthSettingsV2{variant}{slot}"
    for variant in ("", "WithoutSecrets")
    for slot in ("", "Slot")
)
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
#: TLS versions below 1.2, as the providers spell them.
OLD_TLS = frozenset({"1.0", "1.1", "TLS1_0", "TLS1_1"})

FUNCTION_APP = Spec(
    id="azure-function-app-secure",
    description="Function and web apps (and their slots) take HTTPS only, allow no FTP, accept "
    "TLS 1.2 or later, allow no remote debugging, run with a managed identity and allow no "
    "basic-auth publishing",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set httpsOnly: true, siteConfig.ftpsState: Disabled, siteConfig.minTlsVersion: "
    "1.2, leave siteConfig.remoteDebuggingEnabled off, give an identity (SystemAssigned or "
    "UserAssigned) that a Flex Consumption app also deploys with (functionAppConfig.deployment."
    "storage.authentication), leave httpSettings.requireHttps of the auth settings on, and set "
    "WebAppFtpAllowed/WebAppScmAllowed allow: false.",
    resource_types=(*APPS, *BASIC_AUTH, *AUTH_SETTINGS),
    checkov=("CKV_AZURE_70", "CKV_AZURE_72", "CKV_AZURE_145"),
)

HTTPS_ONLY = declare(APPS, "httpsOnly")
FTPS = declare(APPS, "siteConfig.ftpsState")
MIN_TLS = declare(APPS, "siteConfig.minTlsVersion")
REMOTE_DEBUGGING = declare(APPS, "siteConfig.remoteDebuggingEnabled")
IDENTITY = declare(APPS, "identity.type")
#: Flex Consumption: how the app reaches the storage its package is deployed from.
DEPLOYMENT_AUTH = declare(APPS, "functionAppConfig.deployment.storage.authentication.type")
ALLOW = declare(BASIC_AUTH, "allow")
REQUIRE_HTTPS = declare(AUTH_SETTINGS, "httpSettings.requireHttps")


def _old_tls(value: object) -> bool:
    """A TLS version below 1.2, however written (``"1.1"``, ``1.1``, ``TLS1_1``)."""
    return str(value) in OLD_TLS


def _function_app(r: Resource, report: Callable[[str], None]) -> None:
    if r.type in BASIC_AUTH:
        if verdict(pick(r.props, ALLOW), falsy) is False:
            report("basic-auth publishing is allowed: a user name and password can deploy code")
        return
    if r.type in AUTH_SETTINGS:
        # The service default is true; only an explicit false lets tokens travel in clear.
        if any(falsy(v) for v in pick(r.props, REQUIRE_HTTPS)):
            report(
                "httpSettings.requireHttps is false: sign-in tokens and session cookies can "
                "travel over plain HTTP"
            )
        return
    if verdict(pick(r.props, HTTPS_ONLY), truthy) is False:
        report("httpsOnly is not true: the app answers plain HTTP")
    if verdict(pick(r.props, FTPS), lambda v: v == "Disabled") is False:
        report("siteConfig.ftpsState is not Disabled: code and logs can be reached over FTP")
    tls = pick(r.props, MIN_TLS)  # unset: the service's default, 1.2
    if tls and verdict(tls, lambda v: not _old_tls(v)) is False:
        report("siteConfig.minTlsVersion admits TLS below 1.2")
    # Unset: off (the service default); a debugger attached reads the secrets in memory.
    if any(truthy(v) for v in pick(r.props, REMOTE_DEBUGGING)):
        report("siteConfig.remoteDebuggingEnabled is true: a debugger can attach to the process")
    if verdict(pick(r.props, IDENTITY), lambda v: isinstance(v, str) and v != "None") is False:
        report("no managed identity: the app would need a credential in its settings")
    if "StorageAccountConnectionString" in pick(r.props, DEPLOYMENT_AUTH):
        report(
            "functionAppConfig reaches its deployment storage with a connection string: an "
            "account key sits in the app's settings"
        )


STORAGE = Spec(
    id="azure-storage-account-secure",
    description="Storage accounts take HTTPS only and TLS 1.2 or later and allow no anonymous "
    "blob access; blob containers are not public",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set enableHttpsTrafficOnly: true, minimumTlsVersion: TLS1_2 and "
    "allowBlobPublicAccess: false; give containers publicAccess: None.",
    resource_types=(STORAGE_ACCOUNT, CONTAINER),
)

HTTPS_TRAFFIC = declare((STORAGE_ACCOUNT,), "enableHttpsTrafficOnly")
ACCOUNT_TLS = declare((STORAGE_ACCOUNT,), "minimumTlsVersion")
PUBLIC_BLOBS = declare((STORAGE_ACCOUNT,), "allowBlobPublicAccess")
CONTAINER_ACCESS = declare((CONTAINER,), "publicAccess")


def _storage(r: Resource, report: Callable[[str], None]) -> None:
    if r.type == CONTAINER:
        access = pick(r.props, CONTAINER_ACCESS)
        if access and verdict(access, lambda v: v in (None, "None")) is False:
            report("the container is public: anyone can read its blobs")
        return
    # Each setting's service default is unsafe or version-dependent: it must be said.
    if verdict(pick(r.props, HTTPS_TRAFFIC), truthy) is False:
        report("enableHttpsTrafficOnly is not true: secure transfer is not required")
    if verdict(pick(r.props, ACCOUNT_TLS), lambda v: v not in (None, *OLD_TLS)) is False:
        report("minimumTlsVersion is not TLS1_2 or later")
    if verdict(pick(r.props, PUBLIC_BLOBS), lambda v: v is False or v == "false") is False:
        report("allowBlobPublicAccess is not false: a container can be made public")


POLICIES: list[PackPolicy] = [
    resource_policy(FUNCTION_APP, _function_app),
    resource_policy(STORAGE, _storage),
]
