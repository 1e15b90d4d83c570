"""Vault's path priority as OpenBao enforces it: for every fixture policy set x path, the deciding
rule's capabilities the pack's ACL computes (``policies.vault.acl.ACL``, what the Vault grapher
uses) equal what a real ``bao server -dev`` answers on ``sys/capabilities`` for a token holding
exactly those policies; and the KV v2 actions the grapher derives from capabilities (read, write
= update/patch on ``data/``, never create alone on an existing secret) are what the server lets
such a token do."""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import pytest

from policies.contract.access import Action
from policies.vault.acl import ACL, parse
from tests.vault.server import BaoServer, start_bao

pytestmark = pytest.mark.servers


def _p(path: str, *caps: str) -> str:
    quoted = ", ".join(f'"{c}"' for c in caps)
    return f'path "{path}" {{\n  capabilities = [{quoted}]\n}}\n'


#: name -> (policies {name: text}, paths to ask about)
CASES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "exact beats a denying glob of another policy": (
        {"g": _p("kv/data/app/*", "deny"), "e": _p("kv/data/app/db", "read")},
        ("kv/data/app/db", "kv/data/app/other", "kv/data/app"),
    ),
    "deny on the same path in another policy wins": (
        {"a": _p("kv/data/x", "read", "update"), "b": _p("kv/data/x", "deny")},
        ("kv/data/x", "kv/data/y"),
    ),
    "same path in two policies: union": (
        {"a": _p("kv/data/x", "read"), "b": _p("kv/data/x", "update") + _p("kv/data/x*", "list")},
        ("kv/data/x", "kv/data/xy"),
    ),
    "longest prefix wins, not a union": (
        {"a": _p("kv/data/*", "read"), "b": _p("kv/data/app/*", "deny")},
        ("kv/data/app/db", "kv/data/other", "kv/data/ap"),
    ),
    "a narrower prefix without read hides a wider read": (
        {"a": _p("kv/*", "read"), "b": _p("kv/data/app/*", "list")},
        ("kv/data/app/db", "kv/data/web/db", "kv/metadata/app/db"),
    ),
    "glob later than the plus wins": (
        {"p": _p("kv/data/+/db", "read"), "g": _p("kv/data/app/*", "deny")},
        ("kv/data/app/db", "kv/data/web/db", "kv/data/web/db2"),
    ),
    "plus later than the glob wins": (
        {"p": _p("kv/data/app/+", "deny"), "g": _p("kv/data/ap*", "read")},
        ("kv/data/app/db", "kv/data/apple", "kv/data/app/db/x"),
    ),
    "same position: not a prefix wins": (
        {"p": _p("kv/data/app/+", "read"), "g": _p("kv/data/app/*", "deny")},
        ("kv/data/app/db", "kv/data/app/db/x"),
    ),
    "same position: fewer plus segments win": (
        {"two": _p("kv/data/+/+", "read"), "one": _p("kv/data/+/db", "deny")},
        ("kv/data/app/db", "kv/data/app/web"),
    ),
    "same position and plus count: the longer wins": (
        {"short": _p("kv/data/+/d*", "deny"), "long": _p("kv/data/+/db*", "read")},
        ("kv/data/app/db", "kv/data/app/dx", "kv/data/app/db/more"),
    ),
    "plus then glob": (
        {"a": _p("kv/data/+/*", "read"), "b": _p("kv/data/+/secret", "deny")},
        ("kv/data/app/secret", "kv/data/app/other", "kv/data/app", "kv/data/app/secret/x"),
    ),
    "metadata only": (
        {"m": _p("kv/metadata/app/*", "read", "list")},
        ("kv/metadata/app/db", "kv/data/app/db"),
    ),
    "legacy policy syntax": (
        {"l": 'path "kv/data/legacy/*" {\n  policy = "write"\n}\n'},
        ("kv/data/legacy/x", "kv/data/other"),
    ),
    "a plus inside a segment is literal": (
        {"a": _p("kv/data/a+b/*", "read")},
        ("kv/data/a+b/x", "kv/data/aXb/x"),
    ),
    "JSON policy": (
        {"j": '{"path": {"kv/data/json/*": {"capabilities": ["read", "patch"]}}}'},
        ("kv/data/json/x", "kv/data/jsonx"),
    ),
}


@pytest.fixture(scope="module")
def bao() -> Iterator[BaoServer]:
    server = start_bao([])
    try:
        server.client().sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
        yield server
    finally:
        server.close()


def _token(client: hvac.Client, policies: list[str]) -> str:
    created = client.auth.token.create(policies=policies, no_default_policy=True, ttl="10m")
    return str(created["auth"]["client_token"])


def _server_capabilities(bao: BaoServer, token: str, paths: tuple[str, ...]) -> dict[str, set[str]]:
    resp = bao.session.post(
        f"{bao.url}/v1/sys/capabilities",
        headers={"X-Vault-Token": bao.root_token},
        json={"token": token, "paths": list(paths)},
        timeout=5,
    )
    resp.raise_for_status()
    body = resp.json()
    return {p: set(body[p]) for p in paths}


def _ours(policies: dict[str, str], path: str) -> set[str]:
    acl = ACL([(name, parse(text)) for name, text in policies.items()])
    caps = set(acl.decide(path).capabilities)
    return {"deny"} if not caps or "deny" in caps else caps


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_deciding_rule_is_the_servers(bao: BaoServer, case: str) -> None:
    policies, paths = CASES[case]
    client = bao.client()
    prefix = f"t{sorted(CASES).index(case)}-"
    for name, text in policies.items():
        assert parse(text).readable, (name, parse(text).problems)
        client.sys.create_or_update_policy(prefix + name, text)
    token = _token(client, [prefix + n for n in policies])
    server = _server_capabilities(bao, token, paths)
    ours = {p: _ours(policies, p) for p in paths}
    assert ours == server


#: capabilities on kv/data/rot -> what the grapher says a token can do to the existing secret
WRITES: list[tuple[tuple[str, ...], frozenset[Action]]] = [
    (("create",), frozenset()),
    (("update",), frozenset({Action.WRITE})),
    (("patch",), frozenset({Action.WRITE})),
    (("read",), frozenset({Action.READ})),
    (("create", "read"), frozenset({Action.READ})),
]


@pytest.mark.parametrize(("caps", "expected"), WRITES, ids=["+".join(c) for c, _ in WRITES])
def test_kv2_actions_are_what_the_server_lets_a_token_do(
    bao: BaoServer, caps: tuple[str, ...], expected: frozenset[Action]
) -> None:
    from policies.graph.vault import kv2_needs

    root = bao.client()
    root.secrets.kv.v2.create_or_update_secret("rot", {"v": "fake-1"}, mount_point="kv")
    name = "w-" + "-".join(caps)
    text = _p("kv/data/rot", *caps)
    root.sys.create_or_update_policy(name, text)
    token = _token(root, [name])
    client = bao.client(token)
    acl = ACL([(name, parse(text))])
    granted = {
        a
        for a, path, need in kv2_needs("kv", "rot")
        if any(acl.decide(path).allows(c) for c in need)
    }
    assert granted == expected
    can_read = _tries(
        lambda: client.secrets.kv.v2.read_secret_version(
            "rot", mount_point="kv", raise_on_deleted_version=True
        )
    )
    can_write = _tries(
        lambda: client.secrets.kv.v2.create_or_update_secret(
            "rot", {"v": "fake-2"}, mount_point="kv"
        )
    ) or _patches(bao, token)
    assert (Action.READ in expected, Action.WRITE in expected) == (can_read, can_write)


def _tries(call: object) -> bool:
    assert callable(call)
    try:
        call()
    except hvac.exceptions.Forbidden:
        return False
    return True


def _patches(bao: BaoServer, token: str) -> bool:
    """An HTTP PATCH of the secret's data (what the ``patch`` capability is for)."""
    resp = bao.session.patch(
        f"{bao.url}/v1/kv/data/rot",
        headers={"X-Vault-Token": token, "Content-Type": "application/merge-patch+json"},
        json={"data": {"v": "fake-3"}},
        timeout=5,
    )
    assert resp.status_code in (200, 403), resp.text
    return resp.status_code == 200
