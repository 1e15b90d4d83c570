"""The graph's own semantics, whatever the store: how paths of one principal merge."""

from __future__ import annotations

from policies.contract.access import Action
from policies.graph import Grant, Graph, Hop, SecretNode

R, W, M, D = Action.READ, Action.WRITE, Action.MANAGE, Action.DESCRIBE
URN = "urn:pulumi:s::p::t::secret"


def _graph(*grants: Grant) -> Graph:
    g = Graph()
    g.add_secret(SecretNode(URN, "aws", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x"))
    for grant in grants:
        g.grant(URN, grant)
    return g


def _hop(n: str) -> tuple[Hop, ...]:
    return (Hop("statement", n),)


def test_paths_of_one_principal_merge_into_one_entry_widest_path_first() -> None:
    g = _graph(
        Grant("p", frozenset({D}), _hop("describe-only")),
        Grant("p", frozenset({R, D}), _hop("reader")),
    )
    [entry] = g.access(URN)
    assert entry.to_json() == {
        "principal": "p",
        "actions": ["read", "describe"],
        "via": ["statement reader"],
        "paths": [["statement reader"], ["statement describe-only"]],
        "escalation": False,
    }


def test_escalation_is_a_separate_entry_only_for_what_it_adds() -> None:
    direct = Grant("p", frozenset({D}), _hop("direct"))
    step = Grant("p", frozenset({R, D}), _hop("assume"), escalation=True)
    redundant = Grant("q", frozenset({R}), _hop("assume"), escalation=True)
    g = _graph(direct, step, Grant("q", frozenset({R}), _hop("own")), redundant)
    got = {(a.principal, a.escalation): sorted(a.actions) for a in g.access(URN)}
    assert got == {("p", False): [D], ("p", True): [R], ("q", False): [R]}
    assert g.holders(URN) == {"q"}
    assert g.can("p", URN, R, escalation=True) and not g.can("p", URN, R)


def test_grants_on_unknown_secrets_or_without_actions_are_dropped() -> None:
    g = _graph(Grant("p", frozenset(), _hop("nothing")))
    g.grant("urn:other", Grant("p", frozenset({R}), _hop("x")))
    assert g.access(URN) == [] and "urn:other" not in g.grants
    assert g.complete
    g.gap(None, "a policy document is unknown at preview")
    assert not g.complete and g.to_json()["complete"] is False
