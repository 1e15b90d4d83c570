"""Bounded time on any input (issue 9, item 7), proved structurally rather than by timing.

Every regular expression the detector runs passes a static check (no nested quantifiers, long
repeats over one class that cannot overlap what follows and cannot be restarted inside their
run); the check is shown to reject the patterns that really were quadratic or worse; detect-secrets'
secret types are all covered by the linear rewrites; long values are scanned in overlapping
windows so nothing is lost at an edge; adversarial inputs that used to take seconds to minutes
are processed (no timing asserted: the figures are in benchmarks/large_value_bench.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

from policies.lib import credentials
from policies.lib.credentials import (
    DETECTORS,
    EXCLUDED_PLUGINS,
    OVERLAP,
    WINDOW,
    all_patterns,
    linearity_problems,
    redact_text,
    scan_value,
)

AKID = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret

PATTERNS = all_patterns()


@pytest.mark.parametrize(
    ("name", "pattern"), PATTERNS, ids=[f"{i}-{n}" for i, (n, _) in enumerate(PATTERNS)]
)
def test_every_pattern_is_linear(name: str, pattern: re.Pattern[str]) -> None:
    assert linearity_problems(pattern) == []


def test_the_pattern_list_covers_every_detector() -> None:
    listed = {id(p) for _, p in PATTERNS}
    for det in DETECTORS:
        assert id(det.trigger) in listed
        assert all(id(p) in listed for p in det.patterns)
    assert len(PATTERNS) > 100


# Patterns that backtrack super-linearly (measured before this change: the scanner took 14 s on
# '/' * 40000 through npm's, 107 s on 'key' + ' ' * 2000 through IBM Cloud IAM's), each with the
# rule it breaks.
BAD: list[tuple[str, str]] = [
    ("npm (detect-secrets)", r"\/\/.+\/:_authToken=\s*((npm_.+)|([A-Fa-f0-9-]{36})).*"),
    ("IBM IAM separators", r"(?:key|pwd)(?:\"|'|)(?: *)(?:=|:| +|::)(?: *)([a-zA-Z0-9_\-]{44})"),
    ("Slack (detect-secrets)", r"xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+"),
    ("JWT (detect-secrets)", r"eyJ[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.?[A-Za-z0-9-_.+/=]*?"),
    ("old URL password", r"[A-Za-z][A-Za-z0-9+.-]*://:([^@\s/{}]+)@"),
    ("old PEM body", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----(.*?)-----END"),
    ("nested groups", r"^(?:[a-z0-9]+/)+$"),
    ("classic (a+)+", r"(a+)+b"),
    ("unguarded long token", r"[0-9a-z]{32}-us[0-9]{1,2}"),
]


@pytest.mark.parametrize(("name", "source"), BAD, ids=[b[0] for b in BAD])
def test_the_check_rejects_super_linear_patterns(name: str, source: str) -> None:
    assert linearity_problems(re.compile(source)) != []


def test_detect_secrets_originals_that_needed_rewriting_are_rejected() -> None:
    """The rewrites were needed: several of detect-secrets' own regexes fail the check."""
    rejected = {
        secret_type
        for secret_type, cls in get_mapping_from_secret_type_to_class().items()
        for p in getattr(cls, "denylist", None) or ()
        if cls.__name__ not in EXCLUDED_PLUGINS and linearity_problems(p)
    }
    assert {"NPM tokens", "Slack Token", "JSON Web Token", "IBM Cloud IAM Key"} <= rejected


def test_every_detect_secrets_type_is_covered() -> None:
    kinds = {d.kind for d in DETECTORS}
    for secret_type, cls in get_mapping_from_secret_type_to_class().items():
        if cls.__name__ not in EXCLUDED_PLUGINS:
            assert secret_type in kinds, secret_type


# detect-secrets' own kind of example for each plugin: the plugin flags it, and so do we.
# fmt: off
DS_EXAMPLES: list[str] = [
    f"aws_access_key_id = {AKID}",
    'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',  # pragma: allowlist secret
    "artifactory: AKCp5FAKEa1b2c3d4e5f6 ",  # pragma: allowlist secret
    "AccountKey=" + "F" * 86 + "==",  # pragma: allowlist secret
    "postgres://trader:FAKEs3cr3tPw@db:5432/nt",  # pragma: allowlist secret
    "cloudant_password='" + "fa4e1c2b" * 8 + "'",  # pragma: allowlist secret
    "MTFAKEa1b2c3d4e5f6a7b8c9d0.FAKEab.FAKEa1b2c3d4e5f6a7b8c9d0e1f2a",  # pragma: allowlist secret
    "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234",  # pragma: allowlist secret
    "glpat-FAKEa1B2c3D4e5F6g7H8",  # pragma: allowlist secret
    "ibm_cos_secret_access_key = '" + "fa4e1c2b" * 6 + "'",  # pragma: allowlist secret
    "ibm_cloud_iam_key = '" + "FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0" + "'",  # pragma: allowlist secret
    "fa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c-us12",  # pragma: allowlist secret
    "//registry.npmjs.org/:_authToken=npm_FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6",  # pragma: allowlist secret
    "sk-FAKEa1B2c3D4e5F6g7H8iT3BlbkFJFAKEa1B2c3D4e5F6g7H8",  # pragma: allowlist secret
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEFAKEFAKEFAKE\n-----END OPENSSH PRIVATE KEY-----",  # pragma: allowlist secret
    "pypi-AgEIcHlwaS5vcmc" + "FAKEa1B2c3" * 8,  # pragma: allowlist secret
    "SG.FAKEa1B2c3D4e5F6g7H8i9.FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T",  # pragma: allowlist secret
    "xoxb-1234567890-1234567890123-FAKEfakeFAKEfakeFAKEfake",  # pragma: allowlist secret
    "softlayer_api_key = '" + "fa4e1c2b" * 8 + "'",  # pragma: allowlist secret
    "sq0csp-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T",  # pragma: allowlist secret
    "sk_live_FAKEa1B2c3D4e5F6g7H8i9J0",  # pragma: allowlist secret
    "bot token 123456789:AAFAKEfakeFAKEfakeFAKEfakeFAKEfake1",  # pragma: allowlist secret
    "SKfa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c",  # pragma: allowlist secret
]
# fmt: on


@pytest.mark.parametrize("text", DS_EXAMPLES, ids=[str(i) for i in range(len(DS_EXAMPLES))])
def test_rewrites_find_what_detect_secrets_finds(text: str) -> None:
    """For every example some detect-secrets plugin flags, a rewrite of that plugin (same kind)
    reports it too."""
    plugins: dict[str, type[Any]] = get_mapping_from_secret_type_to_class()
    plugin_kinds = {
        secret_type
        for secret_type, cls in plugins.items()
        if cls.__name__ not in EXCLUDED_PLUGINS and any(True for _ in cls().analyze_string(text))
    }
    assert plugin_kinds, "the example must be one detect-secrets flags"
    ours = {kind for kind, _ in credentials._format_hits(text)}
    assert plugin_kinds & ours, (plugin_kinds, ours)


@pytest.mark.parametrize(
    "offset", [WINDOW - 10, WINDOW - 1, WINDOW, WINDOW + OVERLAP - 25, 2 * WINDOW - 7]
)
def test_credential_across_a_window_edge_is_found(offset: int) -> None:
    text = "a " * (offset // 2) + ("" if offset % 2 == 0 else " ") + AKID + " b" * (WINDOW // 2)
    assert text.index(AKID) == offset
    hits = scan_value({"blob": text})
    assert [(h.path, h.kind) for h in hits] == [("blob", "AWS Access Key")]
    assert AKID not in redact_text(text)


def test_long_values_are_windowed() -> None:
    text = "x" * (3 * WINDOW)
    windows = list(credentials._windows(text))
    assert len(windows) == 3
    assert all(len(w) <= WINDOW + OVERLAP for w in windows)
    assert list(credentials._windows("short")) == ["short"]


# Inputs that took seconds to minutes before (see the module docstring), ~200 KB each.
ADVERSARIAL = {
    "letters": "a" * 200_000,
    "scheme-separators": "://" * 70_000,
    "slashes": "/" * 200_000,
    "jwt-prefixes": "eyJ" * 70_000,
    "sk-prefixes": "sk-" * 70_000,
    "equals": "=" * 200_000,
    "open-assignments": 'a=" ' * 50_000,
    "key-then-spaces": "key" + " " * 200_000 + "x",
    "begin-headers": "-----BEGIN RSA PRIVATE KEY-----" * 6_000,  # pragma: allowlist secret
    "wordlist-words": "abandon " * 25_000,
    "flags": "-p " * 70_000,
    "digits-colons": "123456789:" * 20_000,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_inputs_are_processed(name: str) -> None:
    value = ADVERSARIAL[name]
    hits = scan_value({"v": value})
    assert all(h.path == "v" for h in hits)
    assert isinstance(redact_text(value), str)


# --------------------------------------------------------------------------- the RE2 prefilter


def _corpus() -> list[str]:
    """Every string the credential tests judge, and variants the two engines could read apart:
    Unicode case folds (long s, Kelvin sign), a trigger's shape right after the character its
    lookbehind refuses, non-ASCII text around a trigger."""
    from tests.policies.test_credentials import NEGATIVE, POSITIVE
    from tests.policies.test_credentials_text import HIDDEN, LOOK_ALIKES

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
        if isinstance(value, list | tuple):
            return [s for v in value for s in strings(v)]
        return []

    base = [*DS_EXAMPLES, *strings(POSITIVE), *strings(NEGATIVE)]
    base += strings([h[1] for h in HIDDEN]) + strings([x[1] for x in LOOK_ALIKES])
    tricky = [
        "\u017fecret_key: x",  # long s folds to s
        "api_\u212aey = y",  # Kelvin sign folds to k
        "x" + "A1b2" * 10 + '"',  # the AWS secret shape after a character its lookbehind refuses
        "f" + "0a" * 16 + ":",  # the Sentry shape after a hex digit
        "é" + AKID + "ü",
    ]
    return base + tricky + [s.upper() for s in base] + [s.lower() for s in base]


def test_the_prefilter_matches_wherever_a_detector_trigger_does() -> None:
    """The prefilter (RE2) only gates: every string some detector's own trigger (Python's
    engine) matches must pass it, or a credential would go unseen. Held per detector (its
    loosened trigger alone, under RE2), for the whole alternation and for the RE2 set that picks
    the detectors to run; every detector's trigger is met by some string of the corpus."""
    import re2

    prefilter = credentials._prefilter()
    corpus = _corpus()
    assert len(corpus) > 300
    for det in DETECTORS:
        loose = re2.compile(credentials._loosened(det.trigger))
        met = [text for text in corpus if det.trigger.search(text)]
        assert met, f"no string of the corpus meets the {det.kind} trigger"
        for text in met:
            assert loose.search(text) is not None, (det.kind, text)
            assert prefilter.search(text) is not None, (det.kind, text)
            assert det in credentials._candidates(text), (det.kind, text)


@pytest.mark.parametrize(
    ("source", "flags", "loosened"),
    [
        (r"(?<![0-9a-f])[0-9a-f]{32}[:@]", 0, r"(?:[0-9a-f]{32}[:@])"),
        (r"ab(?=c)", re.I, r"(?i:ab)"),
        (r"a(?:b(?!c\)))d", 0, r"(?:a(?:b)d)"),
        (r"x[(]y(?<=[)])", 0, r"(?:x[(]y)"),
        (r"[]a]b(?<!\))", 0, r"(?:[]a]b)"),
    ],
)
def test_loosening_a_trigger_drops_its_lookarounds_and_nothing_else(
    source: str, flags: int, loosened: str
) -> None:
    assert credentials._loosened(re.compile(source, flags)) == loosened


@pytest.mark.parametrize("source", [r"\d{8}:", r"key\s*=", r"\bsk-", r"\w+@"])
def test_a_trigger_with_classes_the_engines_read_apart_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="spell classes out"):
        credentials._loosened(re.compile(source))


def test_text_that_is_not_valid_unicode_is_scanned_too() -> None:
    """JSON may carry lone surrogates (``"\\ud800"``): the prefilter reads them as bytes that
    match nothing, and the credential beside them is still found."""
    key = "sk-ant-api03-FAKEsurrogateQ7mZ3xW9pL2vN8rT4bK6dH1jF5sY0"  # pragma: allowlist secret
    hits = scan_value({"note": f"\ud800 {key} \udfff"})
    assert [h.kind for h in hits] == ["Anthropic API Key"]
    assert key not in redact_text(f"\ud800{key}")


def test_an_re2_set_that_finds_nothing_leaves_every_detector_to_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An RE2 set whose DFA runs out of memory answers "no match", without an error: after the
    prefilter matched, that answer sends the text to every detector, so nothing is lost."""

    class OutOfMemory:
        def Match(self, text: bytes) -> list[int]:
            return []

    monkeypatch.setattr(credentials, "_trigger_set", lambda: OutOfMemory())
    assert credentials._candidates(f"id {AKID}") == DETECTORS
    assert [h.kind for h in scan_value({"id": AKID})] == ["AWS Access Key"]
