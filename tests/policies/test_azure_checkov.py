"""checkov's own pass/fail fixtures for the Azure IDs the pack carries on function apps and custom
roles, translated to azure-native (issue 21, class 6).

checkov's Azure fixtures are azurerm Terraform and azure-native is not bridged from azurerm, so
there is no mechanical translation (docs/checkov-parity.md): each fixture resource is written by
hand as the azure-native resources that express it, and keeps checkov's verdict (the passing and
failing resource sets of checkov's own test, whose path each group cites). Every azurerm app type
(``azurerm_function_app``, ``azurerm_linux_function_app``, ``azurerm_windows_web_app``...) is a
``web.WebApp`` of a ``kind``, every ``*_slot`` a ``web.WebAppSlot``; an ``auth_settings_v2`` block
is a ``web.WebAppAuthSettingsV2[Slot]`` resource beside the app.

``azure-function-app-secure`` judges several settings of an app at once, so each translation puts
the one setting the checkov ID reads onto an app otherwise hardened (:data:`HARDENED`): the case
counts the finding of that setting alone. The table runs with every other policy's
(``test_pack.py``); :func:`test_every_translated_id_is_judged_both_ways` keeps it complete.
"""

from __future__ import annotations

import copy
from typing import Any

from policies.model import CIPHERTEXT, UNKNOWN, ResourceRecord
from policies.pack import ALL
from tests.policies.records import rec

SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
APP = "azure-native:web:WebApp"
SLOT = "azure-native:web:WebAppSlot"
AUTH_V2 = "azure-native:web:WebAppAuthSettingsV2"
AUTH_V2_SLOT = "azure-native:web:WebAppAuthSettingsV2Slot"
DEFINITION = "azure-native:authorization:RoleDefinition"
SUBSCRIPTION = "/subscriptions/00000000-0000-4000-8000-000000000000"
FUNCTIONS = "azure-function-app-secure"
CUSTOM_ROLES = "azure-rbac-custom-role-definitions"

#: checkov's test (or fixture folder) for each ID translated here.
FIXTURES = {
    "CKV_AZURE_39": "tests/terraform/checks/resource/azure/"
    "test_CustomRoleDefinitionSubscriptionOwner.py",
    "CKV_AZURE_70": "tests/terraform/checks/resource/azure/"
    "example_FunctionAppAccessibleOverHttps/main.tf",
    "CKV_AZURE_72": "tests/terraform/checks/resource/azure/"
    "example_AppServiceRemoteDebuggingNotEnabled/main.tf",
    "CKV_AZURE_145": "tests/terraform/checks/resource/azure/"
    "example_FunctionAppMinTLSVersion/main.tf",
}

#: An app with every setting azure-function-app-secure judges in order (the service defaults
#: for the rest: TLS 1.2, remote debugging off).
HARDENED: dict[str, Any] = {
    "httpsOnly": True,
    "identity": {"type": "SystemAssigned"},
    "siteConfig": {"ftpsState": "Disabled"},
}

#: azurerm resource type -> (azure-native type, kind)
AZURERM = {
    "azurerm_app_service": (APP, "app"),
    "azurerm_linux_web_app": (APP, "app,linux"),
    "azurerm_windows_web_app": (APP, "app"),
    "azurerm_linux_web_app_slot": (SLOT, "app,linux"),
    "azurerm_windows_web_app_slot": (SLOT, "app"),
    "azurerm_function_app": (APP, "functionapp"),
    "azurerm_function_app_slot": (SLOT, "functionapp"),
    "azurerm_linux_function_app": (APP, "functionapp,linux"),
    "azurerm_linux_function_app_slot": (SLOT, "functionapp,linux"),
    "azurerm_windows_function_app": (APP, "functionapp"),
    "azurerm_windows_function_app_slot": (SLOT, "functionapp"),
}


def env(value: Any) -> dict[str, Any]:
    """A Pulumi secret envelope around ``value``."""
    return {SIG: SECRET_SIG, "value": value}


def app(azurerm: str, drop: tuple[str, ...] = (), **site: Any) -> dict[str, Any]:
    """The hardened app of ``azurerm``'s kind with ``site`` (top-level keys; ``siteConfig`` is
    merged) and the top-level keys ``drop`` removed."""
    props = copy.deepcopy(HARDENED)
    props["kind"] = AZURERM[azurerm][1]
    for key in drop:
        props.pop(key, None)
    for key, value in site.items():
        if key == "siteConfig" and isinstance(value, dict):
            props["siteConfig"] = {**props["siteConfig"], **value}
        else:
            props[key] = value
    return props


def site(azurerm: str, name: str, props: dict[str, Any]) -> ResourceRecord:
    return rec(AZURERM[azurerm][0], props, name=name)


Case = tuple[str, str, list[ResourceRecord], int]


def _case(check: str, resource: str, what: str, records: list[ResourceRecord], fails: bool) -> Case:
    return (f"{check} {resource}: {what}", FUNCTIONS, records, 1 if fails else 0)


# ---- CKV_AZURE_70: HTTPS only (example_FunctionAppAccessibleOverHttps/main.tf) --------------
_HTTPS: list[Case] = []
for _t in ("azurerm_function_app", "azurerm_function_app_slot"):
    _HTTPS += [
        _case(
            "CKV_AZURE_70",
            f"{_t}.fail",
            "https_only unset",
            [site(_t, "fail", app(_t, ("httpsOnly",)))],
            True,
        ),
        _case(
            "CKV_AZURE_70",
            f"{_t}.fail2",
            "https_only false",
            [site(_t, "fail2", app(_t, httpsOnly=False))],
            True,
        ),
        _case("CKV_AZURE_70", f"{_t}.pass", "https_only true", [site(_t, "pass", app(_t))], False),
    ]
for _t, _auth in (
    ("azurerm_linux_function_app", AUTH_V2),
    ("azurerm_linux_function_app_slot", AUTH_V2_SLOT),
):
    _HTTPS += [
        _case(
            "CKV_AZURE_70",
            f"{_t}.fail",
            "https_only unset",
            [site(_t, "fail", app(_t, ("httpsOnly",)))],
            True,
        ),
        _case(
            "CKV_AZURE_70",
            f"{_t}.fail2",
            "https_only false",
            [site(_t, "fail2", app(_t, httpsOnly=False))],
            True,
        ),
        _case(
            "CKV_AZURE_70",
            f"{_t}.fail3",
            "https_only true, auth settings require_https false",
            [
                site(_t, "fail3", app(_t)),
                rec(
                    _auth, {"platform": {"enabled": True}, "httpSettings": {"requireHttps": False}}
                ),
            ],
            True,
        ),
        _case("CKV_AZURE_70", f"{_t}.pass", "https_only true", [site(_t, "pass", app(_t))], False),
        _case(
            "CKV_AZURE_70",
            f"{_t}.pass2",
            "https_only true, auth settings require_https true",
            [site(_t, "pass2", app(_t)), rec(_auth, {"httpSettings": {"requireHttps": True}})],
            False,
        ),
    ]
_HTTPS += [
    # azurerm_linux_function_app_slot.pass: an empty auth_settings_v2 block (require_https
    # defaults to true).
    _case(
        "CKV_AZURE_70",
        "azurerm_linux_function_app_slot.pass (auth block)",
        "empty auth settings",
        [rec(AUTH_V2_SLOT, {})],
        False,
    ),
    # Shapes the SDK allows beyond the fixture: the settings without secrets, string booleans,
    # envelopes, a value unknown at preview.
    _case(
        "CKV_AZURE_70",
        "auth settings without secrets",
        "require_https false",
        [rec(f"{AUTH_V2}WithoutSecrets", {"httpSettings": {"requireHttps": "false"}})],
        True,
    ),
    _case(
        "CKV_AZURE_70",
        "auth settings in an envelope",
        "require_https false",
        [rec(AUTH_V2, {"httpSettings": env({"requireHttps": False})})],
        True,
    ),
    _case(
        "CKV_AZURE_70",
        "auth settings unknown",
        "not judged",
        [rec(AUTH_V2, {"httpSettings": {"requireHttps": UNKNOWN}})],
        False,
    ),
    _case(
        "CKV_AZURE_70",
        "https_only in an envelope",
        "true",
        [rec(APP, {**HARDENED, "httpsOnly": env(True)})],
        False,
    ),
    _case(
        "CKV_AZURE_70",
        "https_only as a string",
        "false",
        [rec(SLOT, {**HARDENED, "httpsOnly": "false"})],
        True,
    ),
]

# ---- CKV_AZURE_72: remote debugging (example_AppServiceRemoteDebuggingNotEnabled/main.tf) ---
_DEBUGGING: list[Case] = []
for _t in (
    "azurerm_app_service",
    "azurerm_linux_function_app",
    "azurerm_linux_function_app_slot",
    "azurerm_linux_web_app",
    "azurerm_linux_web_app_slot",
    "azurerm_windows_function_app",
    "azurerm_windows_function_app_slot",
    "azurerm_windows_web_app",
    "azurerm_windows_web_app_slot",
):
    _DEBUGGING += [
        _case(
            "CKV_AZURE_72",
            f"{_t}.fail",
            "remote_debugging_enabled true",
            [site(_t, "fail", app(_t, siteConfig={"remoteDebuggingEnabled": True}))],
            True,
        ),
        _case(
            "CKV_AZURE_72",
            f"{_t}.pass/pass2",
            "remote_debugging_enabled false",
            [site(_t, "pass", app(_t, siteConfig={"remoteDebuggingEnabled": False}))],
            False,
        ),
        _case(
            "CKV_AZURE_72",
            f"{_t}.pass/pass2 (unset)",
            "site_config without it",
            [site(_t, "pass2", app(_t))],
            False,
        ),
    ]
_DEBUGGING += [
    _case(
        "CKV_AZURE_72",
        "site config in an envelope",
        "remote debugging on",
        [
            rec(
                APP,
                {
                    **HARDENED,
                    "siteConfig": env({"ftpsState": "Disabled", "remoteDebuggingEnabled": "true"}),
                },
            )
        ],
        True,
    ),
    _case(
        "CKV_AZURE_72",
        "site config unknown at preview",
        "not judged",
        [rec(SLOT, {**HARDENED, "siteConfig": UNKNOWN})],
        False,
    ),
    _case(
        "CKV_AZURE_72",
        "site config in ciphertext",
        "not judged",
        [rec(APP, {**HARDENED, "siteConfig": CIPHERTEXT})],
        False,
    ),
]

# ---- CKV_AZURE_145: minimum TLS (example_FunctionAppMinTLSVersion/main.tf) ---------------------
_TLS: list[Case] = []
for _t, _name in (
    ("azurerm_function_app", "fail"),
    ("azurerm_function_app_slot", "fail2"),
    ("azurerm_linux_function_app", "fail3"),
    ("azurerm_windows_function_app", "fail4"),
    ("azurerm_linux_function_app_slot", "fail5"),
    ("azurerm_windows_function_app_slot", "fail6"),
):
    # checkov writes the version as a number (1.1); azure-native's enum spells it "1.1".
    _TLS.append(
        _case(
            "CKV_AZURE_145",
            f"{_t}.{_name}",
            "TLS 1.1",
            [site(_t, _name, app(_t, siteConfig={"minTlsVersion": "1.1"}))],
            True,
        )
    )
_TLS.append(
    _case(
        "CKV_AZURE_145",
        "TLS 1.1 as a number",
        "as checkov's fixture writes it",
        [
            site(
                "azurerm_function_app",
                "n",
                app("azurerm_function_app", siteConfig={"minTlsVersion": 1.1}),
            )
        ],
        True,
    )
)
for _t, _name, _version in (
    ("azurerm_function_app", "pass", None),
    ("azurerm_function_app", "pass2", "1.3"),
    ("azurerm_function_app", "pass3", "1.2"),
    ("azurerm_function_app_slot", "pass4", None),
    ("azurerm_linux_function_app", "pass5", "1.2"),
    ("azurerm_windows_function_app", "pass6", "1.2"),
    ("azurerm_linux_function_app_slot", "pass7", "1.3"),
    ("azurerm_windows_function_app_slot", "pass8", "1.2"),
    ("azurerm_windows_function_app_slot", "pass9", None),
):
    _props = app(_t) if _version is None else app(_t, siteConfig={"minTlsVersion": _version})
    _TLS.append(
        _case(
            "CKV_AZURE_145",
            f"{_t}.{_name}",
            f"TLS {_version or 'unset (1.2)'}",
            [site(_t, _name, _props)],
            False,
        )
    )


# ---- CKV_AZURE_39: custom owner roles (test_CustomRoleDefinitionSubscriptionOwner.py) ----------
def role(permissions: Any, assignable: list[str] | None = None) -> ResourceRecord:
    props: dict[str, Any] = {
        "roleName": "my-custom-role",
        "scope": SUBSCRIPTION,
        "description": "This is a custom role created via Terraform",
        "permissions": permissions,
    }
    if assignable is not None:
        props["assignableScopes"] = assignable
    return rec(DEFINITION, props, name="example")


_EVERY = {"actions": ["*"], "notActions": []}
_ROLES: list[Case] = [
    ("CKV_AZURE_39 test_failure_1: actions *", CUSTOM_ROLES, [role([_EVERY], [SUBSCRIPTION])], 1),
    (
        "CKV_AZURE_39 test_failure_2: actions *, assignable at /",
        CUSTOM_ROLES,
        [role([_EVERY], ["/"])],
        1,
    ),
    ("CKV_AZURE_39 test_no_assignable_scopes: actions *", CUSTOM_ROLES, [role([_EVERY])], 1),
    (
        "CKV_AZURE_39 test_success: listed actions",
        CUSTOM_ROLES,
        [
            role(
                [
                    {
                        "actions": [
                            "Microsoft.Authorization/*/read",
                            "Microsoft.Insights/alertRules/*",
                            "Microsoft.Resources/deployments/write",
                            "Microsoft.Resources/subscriptions/operationresults/read",
                            "Microsoft.Resources/subscriptions/read",
                            "Microsoft.Resources/subscriptions/resourceGroups/read",
                            "Microsoft.Support/*",
                        ],
                        "notActions": [],
                    }
                ],
                [SUBSCRIPTION],
            )
        ],
        0,
    ),
    # Shapes beyond the fixture: envelopes around the list, an entry or the actions; ciphertext.
    ("CKV_AZURE_39 permissions in an envelope: actions *", CUSTOM_ROLES, [role(env([_EVERY]))], 1),
    (
        "CKV_AZURE_39 a permission entry in an envelope: actions *",
        CUSTOM_ROLES,
        [role([env(_EVERY)])],
        1,
    ),
    ("CKV_AZURE_39 actions in an envelope: *", CUSTOM_ROLES, [role([{"actions": env(["*"])}])], 1),
    (
        "CKV_AZURE_39 * in a second permission block",
        CUSTOM_ROLES,
        [role([{"actions": ["Microsoft.Support/*"]}, _EVERY])],
        1,
    ),
    ("CKV_AZURE_39 permissions in ciphertext: not judged", CUSTOM_ROLES, [role(CIPHERTEXT)], 0),
]

AZURE_CHECKOV_CASES: list[Case] = [*_HTTPS, *_DEBUGGING, *_TLS, *_ROLES]


def test_every_translated_id_is_judged_both_ways() -> None:
    """Each translated ID has a passing and a failing fixture, and the policy its cases name
    carries the ID (so its findings carry it)."""
    carried = {p.spec.id: set(p.spec.checkov) for p in ALL}
    for check in FIXTURES:
        cases = [c for c in AZURE_CHECKOV_CASES if c[0].startswith(f"{check} ")]
        assert {c[3] > 0 for c in cases} == {True, False}, check
        assert all(check in carried[c[1]] for c in cases), check


def test_case_ids_are_unique() -> None:
    ids = [c[0] for c in AZURE_CHECKOV_CASES]
    assert len(ids) == len(set(ids))
