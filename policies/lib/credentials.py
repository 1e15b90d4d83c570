"""Credential detection in arbitrary values (pure library: no pulumi / pulumi_policy imports).

``scan_value(value)`` walks nested dicts / lists / JSON-in-strings and returns one
:class:`CredentialHit` per credential found, with the ``path`` where it sits
(``environment.variables.OPENAI_API_KEY``, ``policy.Statement[0].Condition...``), the
detector name as ``kind`` and a redacted ``hint``. The secret itself is never returned,
logged or put in a message.

Detectors (:data:`DETECTORS`, every one a :class:`Detector` of linear-time patterns)
-----------------------------------------------------------------------------------
1. **detect-secrets' shapes, rewritten linear** (``DS_REWRITES``): the secret types of every
   detect-secrets plugin except ``KeywordDetector`` (assignment-keyword heuristics: replaced by
   the name + value judgement below), ``Base64HighEntropyString`` / ``HexHighEntropyString``
   (flag asset hashes, ciphertexts, ids) and ``IPPublicDetector`` (an IP is not a credential):
   AWS keys, Azure storage ``AccountKey=``, URLs with a user and password (BasicAuth), PEM private
   keys, Slack tokens and webhooks, Telegram bot tokens (also in a URL path, ``/bot<token>/``),
   OpenAI, GitHub, GitLab, npm, PyPI, Stripe, SendGrid, Twilio, Mailchimp, Discord, Square,
   Artifactory, IBM, Cloudant, SoftLayer, and JWTs (validated with detect-secrets' own
   ``JwtTokenDetector.is_formally_valid``). detect-secrets' own regexes are not run: those of
   nine plugins fail :func:`linearity_problems` and several backtrack quadratically or worse on
   adversarial input (``'key' + ' ' * 2000`` took 107 s through the IBM Cloud IAM pattern,
   ``'/' * 40000`` 14 s through the npm one, ``'eyJ' * 13000`` 5 s through the JWT one). The
   kinds keep detect-secrets' names; ``tests/policies/test_credentials_linear.py`` proves every
   plugin's type is covered and that the rewrites find detect-secrets' own examples.
2. **Formats detect-secrets lacks** (:data:`EXTRA_DETECTORS`): OpenRouter ``sk-or-v1-``,
   Anthropic ``sk-ant-``, OpenAI ``sk-proj-``/``sk-svcacct-``/``sk-admin-`` and 32+-char legacy
   ``sk-``, Google ``AIza``, E2B ``e2b_``, Hugging Face ``hf_``, Vault ``hvs.``/``hvb.``,
   Azure AD client secrets (``...8Q~...``), Alpaca key ids (``PK``/``AK`` + 18), Stripe test
   keys, Sentry DSNs, URLs with an empty user (``redis://:pw@``), Azure ``SharedAccessKey=``,
   ``Password=``/``Pwd=`` in connection strings, ``Authorization: Bearer ...`` headers.
3. **Name and value together**: a value is judged a credential by its *name* only when the
   value also looks like one (:func:`value_could_be_secret`): under a credential-like name
   (:func:`is_sensitive_key`: ``adminPassword``, ``RABBITMQ_ERLANG_COOKIE``...) any value that is
   not a placeholder, number of up to 6 digits, boolean, duration, auth scheme or algorithm word
   (``oidc``, ``bearer``, ``HS256``), reference (ARN, path, URL without credentials, key-vault /
   SSM reference, ``$(...)`` / ``$VAR``), resource or header name, enum constant, connection
   string of settings only, prose (6+ words), or one of detect-secrets' heuristic false
   positives (sequential strings, templates) is reported as ``sensitive-key``; a few plain words
   (``correct horse battery staple``) are a passphrase there. In free text a single lower-case
   word is not reported (``secret: never issued``), and multi-line values are judged only by
   what they hold, never by their key's name;
   Datadog API/app keys (32/40 hex) and exchange keys (64 mixed-case alphanumerics, Binance
   style) when the name says ``datadog``/``dd_api`` or names an exchange. Names *about* a
   credential are not credential names: ``SESSION_TOKEN_LIFETIME``, ``PASSWORD_MIN_LENGTH``,
   ``SECRET_ROTATION_DAYS``, ``API_KEY_HEADER``, ``auth_mode``, ``JWT_ISSUER``.
4. **Inside text**: strings are also read as text (shell scripts, user data, env files stored
   under one key, command lines, URLs): ``NAME=value`` / ``export NAME="value"`` /
   ``NAME: value`` assignments, ``--password=...`` / ``--token ...`` flags, ``-p'...'``,
   ``curl -u user:pass``, query parameters (``?token=...``) are judged as name + value pairs
   like structured keys; BIP-39 seed phrases (12-24 words of the vendored English wordlist with a
   valid checksum, or under a seed/mnemonic/credential name) are reported.
5. **Decoded**: base64 (also URL-safe, also line-wrapped) that decodes to text, and gzip inside
   it (cloud-init user data, ``userDataBase64``, launch templates, Azure ``customData``, ConfigMap
   ``binaryData``) is decoded (at most 3 layers, output capped at :data:`MAX_DECODED`) and
   scanned like any string; the hint says so (``AKIA… (20 chars), in base64+gzip``).

Bounded time
------------
Every pattern passes :func:`linearity_problems`, a static check on the parsed regex: no
quantifier nested in a quantifier, every repeat of more than :data:`SMALL_REPEAT` characters is
over one character class and followed by something that class cannot match, and a match cannot
restart inside such a repeat's run (a guard: a left-boundary lookbehind covering the class, or
an earlier mandatory character outside it). With that, Python's backtracking engine runs each
pattern in time linear in the input. Each string is pre-filtered once by one RE2 alternation of
every detector's trigger (a DFA: one pass, whatever the number of detectors) so only strings a
detector can match meet the detectors' own patterns; strings longer than
:data:`WINDOW` are scanned in windows overlapping by :data:`OVERLAP` characters (longer than any
credential shape), so a credential across a window edge is still found.

Decisions
---------
* **No free-standing entropy detection.** Entropy flags hashes, UUIDs, ciphertexts and ids;
  unknown-format secrets are caught by name + value instead, which also finds low-entropy ones
  like ``Password1234!``.
* **Placeholders are not credentials** (:func:`looks_like_placeholder`): ``${VAR}``, ``$VAR``,
  ``{{ var }}``, ``<redacted>``/``<your-key>``, ``[secret]``, ``***``, filler (``sk-xxxx...``,
  ``T00000000/B00000000/XXXX``), alphabet runs, elided PEM bodies (``MHc...``), and the words
  ``changeme``/``redacted``/``placeholder``/``password``/``your-...``. ``changeme`` is a
  placeholder *by decision*: it is a default meant to be replaced, and reporting it would fail
  every template; a stack that deploys it is caught by the strength checks of generated values,
  not here. A URL with ``user:password@`` is documentation style and is not reported. AWS's
  documented example key, having the real shape, *is* reported.
* **Never flagged**: whole-string ARNs and Pulumi URNs, Pulumi secret envelopes (skipped
  entirely), booleans and numbers (non-strings).
* **Name/value pair objects** (Kubernetes/ECS ``{name, value}``, tags ``{Key, Value}``,
  CloudFormation ``{ParameterKey, ParameterValue}``, Beanstalk ``{OptionName, Value}``): the
  value is judged under the pair's *name*; the reported path stays the real one.
* **Word lists are settings**: lists of short plain words under a credential-ish key
  (``secretPermissions: ["Get", "List"]``) are not judged by name.
* **JSON inside strings** is parsed and walked like structure; JSON nested too deeply is
  scanned as plain text.
* **Argument lists**: ``["--token", "<value>"]`` judges the value under the flag's name.
* **Repeated values are judged once**: each distinct string (up to 4096 characters) is scanned
  once per process and its findings reused (states repeat values between inputs, outputs and
  resources).
* Hints: a known public prefix and the length (``"sk-ant-… (108 chars)"``), or only the length;
  a private key's hint is its ``BEGIN ... PRIVATE KEY`` header; a seed phrase's its word count.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, cast

try:  # Python 3.11 keeps the parser private; sre_parse is its deprecated alias
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layouts
    import sre_parse as _sre_parse

__all__ = [
    "DETECTORS",
    "EXCLUDED_PLUGINS",
    "EXTRA_DETECTORS",
    "MAX_DECODED",
    "OVERLAP",
    "SENSITIVE_KEY_KIND",
    "SMALL_REPEAT",
    "WINDOW",
    "CredentialHit",
    "Detector",
    "all_patterns",
    "is_sensitive_key",
    "linearity_problems",
    "looks_like_placeholder",
    "names_a_reference",
    "redact_text",
    "scan_value",
    "value_could_be_secret",
]

SENSITIVE_KEY_KIND: Final = "sensitive-key"
SEED_PHRASE_KIND: Final = "BIP-39 Seed Phrase"
# Pulumi's signature key and its "secret" type tag (not secrets; allowlisted for scanners)
PULUMI_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret

#: detect-secrets plugins deliberately not used (see module docstring).
EXCLUDED_PLUGINS: Final = frozenset(
    {"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"}
)

#: a repeat of more than this many characters must be guarded on its left (no restarts inside)
SMALL_REPEAT: Final = 20
#: a repeat of more than this many characters must not overlap what follows it (no backtracking)
SHORT_BACKTRACK: Final = 256
#: strings longer than this are scanned in windows of this size ...
WINDOW: Final = 256 * 1024
#: ... overlapping by this many characters (more than any credential shape, a 4096-bit PEM key)
OVERLAP: Final = 8 * 1024
#: decoded (base64 / gzip) text is cut at this many bytes, and at most this many layers decoded
MAX_DECODED: Final = 8 * 1024 * 1024
_MAX_LAYERS: Final = 3


@dataclass(frozen=True, slots=True)
class Detector:
    """A credential shape: ``patterns`` (group 1, if any, is the secret; else the longest group
    of 6+ characters, else the whole match), ``anchors`` (a string can match only if it contains
    one of them; lower-case anchors are matched against the lower-cased string; empty: always
    run) and an optional ``valid`` check on the secret."""

    kind: str
    patterns: tuple[re.Pattern[str], ...]
    trigger: re.Pattern[str]
    valid: Callable[[str], bool] | None = field(default=None, compare=False)
    #: (before, after): when set, every match of the patterns contains a match of the trigger,
    #: starts at most ``before`` characters before that trigger match starts and ends (with the
    #: character its lookahead reads) less than ``after`` characters after that trigger match
    #: ends; the patterns then run only over those spans around the trigger's matches, not over
    #: the whole text
    near: tuple[int, int] | None = None


def _jwt_formally_valid(token: str) -> bool:
    """detect-secrets' ``JwtTokenDetector.is_formally_valid`` (the package is imported on first
    use: with its plugins it loads ``requests``, a large share of a state check's start-up)."""
    from detect_secrets.plugins.jwt import JwtTokenDetector

    return bool(JwtTokenDetector.is_formally_valid(token))


def _sequential(value: str) -> bool:
    """detect-secrets' ``is_sequential_string`` heuristic filter (imported on first use)."""
    from detect_secrets.filters.heuristic import is_sequential_string

    return bool(is_sequential_string(value))


def _d(
    kind: str,
    *patterns: str,
    anchors: tuple[str, ...] = (),
    trigger: str | None = None,
    flags: int = 0,
    valid: Callable[[str], bool] | None = None,
    near: tuple[int, int] | None = None,
) -> Detector:
    source = trigger if trigger is not None else "|".join(re.escape(a) for a in anchors)
    return Detector(
        kind, tuple(re.compile(p, flags) for p in patterns), re.compile(source, flags), valid, near
    )


_KW_SEP: Final = r"(?:\"|'|)(?:\]|)(?: {0,16})(?:=|:|:=|=>| {1,16}|::)(?: {0,16})(?:\"|'|)"

#: detect-secrets' secret types, with linear rewrites of its plugins' regexes
DS_REWRITES: Final[tuple[Detector, ...]] = (
    _d(
        "AWS Access Key",
        r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",
        trigger=r"A3T|ABIA|ACCA|AKIA|ASIA",
    ),
    _d(
        "AWS Access Key",
        r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"]([0-9a-zA-Z/+]{40})['\"]",
        trigger=r"(?<![0-9a-zA-Z/+])[0-9a-zA-Z/+]{40}['\"]",
        flags=re.I,
    ),
    _d(
        "Artifactory Credentials",
        r"(?:\s|=|:|\"|^)AKC[a-zA-Z0-9]{10,}(?:\s|\"|$)",
        r"(?:\s|=|:|\"|^)AP[\dABCDEF][a-zA-Z0-9]{8,}(?:\s|\"|$)",
        trigger=r"AKC[a-zA-Z0-9]{10}|AP[0-9A-F][a-zA-Z0-9]{8}",
    ),
    _d(
        "Azure Storage Account access key",
        r"AccountKey=[a-zA-Z0-9+/=]{88}",
        anchors=("AccountKey=",),
    ),
    _d(
        "Basic Auth Credentials",
        r"://[^:/?#\[\]@!$&'()*+,;=\s]+:([^:/?#\[\]@!$&'()*+,;=\s]+)@",
        anchors=("://",),
    ),
    _d(
        "Cloudant Credentials",
        r"(?:(?<=\W)|(?<=^))(?:\[|)(?:\"|'|)(?:cloudant|cl|clou)(?:_|-|)(?:api|)"
        r"(?:key|pwd|pw|password|pass|token)" + _KW_SEP + r"([0-9a-f]{64}|[a-z]{24})(?:\"|'|)",
        r"https?://[\w-]{1,256}:([0-9a-f]{64}|[a-z]{24})@[\w-]{1,256}\.cloudant\.com",
        trigger=r"cl(?:ou|oudant)?[_-]?(?:api)?(?:key|pwd|pw|pass|token)|cloudant\.com",
        flags=re.I,
    ),
    _d(
        "Discord Bot Token",
        r"(?<![a-zA-Z\d_-])[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}",
        trigger=r"\.[a-zA-Z0-9_-]{6}\.",
    ),
    _d("GitHub Token", r"(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}", trigger=r"gh[pousr]_"),
    _d(
        "GitLab Token",
        r"(glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}(?!\w)",
        r"GR1348941[A-Za-z0-9_\-]{20,50}(?!\w)",
        r"glcbt-(?:[0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50}(?!\w)",
        r"glimt-[A-Za-z0-9_\-]{25}(?!\w)",
        r"glptt-[A-Za-z0-9_\-]{40}(?!\w)",
        r"(?<![A-Za-z0-9_-])glagent-[A-Za-z0-9_\-]{50,1024}(?!\w)",
        r"gloas-[A-Za-z0-9_\-]{64}(?!\w)",
        trigger=r"gl[a-z]{2,6}-|GR1348941",
    ),
    _d(
        "IBM COS HMAC Credentials",
        r"(?:(?<=\W)|(?<=^))(?:\[|)(?:\"|'|)(?:(?:ibm)?[-_]?cos[-_]?(?:hmac)?|)(?:_|-|)"
        r"(?:secret[-_]?(?:access)?[-_]?key)" + _KW_SEP + r"([a-f0-9]{48}(?![a-f0-9]))(?:\"|'|)",
        trigger=r"secret[-_]?(?:access)?[-_]?key",
        flags=re.I,
        # the keyword is the trigger: at most 16 characters ([, quote, ibm-cos-hmac, -) before
        # it, at most 51 (separator) + 48 + 1 (quote) + 1 (lookahead) after it
        near=(32, 128),
    ),
    _d(
        "IBM Cloud IAM Key",
        r"(?:(?<=\W)|(?<=^))(?:\[|)(?:\"|'|)(?:ibm(?:_|-|)cloud(?:_|-|)iam|cloud(?:_|-|)iam|"
        r"ibm(?:_|-|)cloud|ibm(?:_|-|)iam|ibm|iam|cloud|)(?:_|-|)(?:api|)(?:_|-|)"
        r"(?:key|pwd|password|pass|token)"
        + _KW_SEP
        + r"([a-zA-Z0-9_\-]{44}(?![a-zA-Z0-9_\-]))(?:\"|'|)",
        trigger=r"(?:key|pwd|pass(?:word)?|token)[\"'\]]{0,2} {0,16}(?:=|:| )",
        flags=re.I,
        # the trigger starts at the keyword: at most 20 characters ([, quote, ibm-cloud-iam,
        # -api-) before it; after it at most 51 (separator) + 44 + 1 (quote) + 1 (lookahead)
        near=(32, 128),
    ),
    _d(
        "JSON Web Token",
        r"(?<![A-Za-z0-9_=+/-])eyJ[A-Za-z0-9_=-]{1,}\.[A-Za-z0-9_=-]{1,}(?:\.[A-Za-z0-9_=+/-]*)?",
        anchors=("eyJ",),
        valid=_jwt_formally_valid,
    ),
    _d("Mailchimp Access Key", r"(?<![0-9a-z])[0-9a-z]{32}-us[0-9]{1,2}", trigger=r"-us[0-9]"),
    _d(
        "NPM tokens",
        r"/:_authToken=[ \t]{0,16}(npm_[A-Za-z0-9]{36}|[A-Fa-f0-9-]{36})",
        anchors=(":_authToken=",),
    ),
    _d(
        "OpenAI Token",
        r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{0,64}[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        anchors=("T3BlbkFJ",),
    ),
    _d(
        "Private Key",
        r"BEGIN DSA PRIVATE KEY",  # pragma: allowlist secret
        r"BEGIN EC PRIVATE KEY",  # pragma: allowlist secret
        r"BEGIN OPENSSH PRIVATE KEY",  # pragma: allowlist secret
        r"BEGIN PGP PRIVATE KEY BLOCK",  # pragma: allowlist secret
        r"BEGIN PRIVATE KEY",  # pragma: allowlist secret
        r"BEGIN RSA PRIVATE KEY",  # pragma: allowlist secret
        r"BEGIN SSH2 ENCRYPTED PRIVATE KEY",  # pragma: allowlist secret
        r"BEGIN ENCRYPTED PRIVATE KEY",
        r"PuTTY-User-Key-File-[23]",
        anchors=("PRIVATE KEY", "PuTTY-User-Key-File-"),
    ),
    _d(
        "PyPI Token",
        r"(?<![A-Za-z0-9_-])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{70,}",
        r"(?<![A-Za-z0-9_-])pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{70,}",
        anchors=("pypi-",),
    ),
    _d("SendGrid API Key", r"SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}", anchors=("SG.",)),
    _d(
        "Slack Token",
        r"(?<![A-Za-z0-9])xox[abposr]-[0-9]{1,32}-[0-9-]{0,64}[a-z0-9]{1,}",
        r"(?<![A-Za-z0-9_])https://hooks\.slack\.com/services/T[a-zA-Z0-9_]{1,64}/B[a-zA-Z0-9_]{1,64}"
        r"/[a-zA-Z0-9_]{1,}",
        anchors=("xox", "hooks.slack.com"),
        flags=re.I,
    ),
    _d(
        "SoftLayer Credentials",
        r"(?:(?<=\W)|(?<=^))(?:\[|)(?:\"|'|)(?:softlayer|sl)(?:_|-|)(?:api|)(?:_|-|)"
        r"(?:key|pwd|password|pass|token)" + _KW_SEP + r"([a-z0-9]{64})(?:\"|'|)",
        r"(?:http|https)://api.softlayer.com/soap/(?:v3|v3.1)/([a-z0-9]{64})",
        trigger=r"softlayer|sl[_-]?(?:api)?[_-]?(?:key|pwd|pass|token)",
        flags=re.I,
    ),
    _d("Square OAuth Secret", r"sq0csp-[0-9A-Za-z\\\-_]{43}", anchors=("sq0csp-",)),
    _d("Stripe Access Key", r"(?:r|s)k_live_[0-9a-zA-Z]{24}", anchors=("k_live_",)),
    # the trigger is the token's shape, not any 8 digits and a colon (an AWS account id in every
    # ARN): the last 8 digits, the colon and the 35 characters of every match
    _d("Telegram Bot Token", r"\d{8,10}:[0-9A-Za-z_-]{35}", trigger=r"[0-9]{8}:[0-9A-Za-z_-]{35}"),
    _d("Twilio API Key", r"AC[a-z0-9]{32}", r"SK[a-z0-9]{32}", trigger=r"(?:AC|SK)[a-z0-9]{32}"),
)

_B: Final = r"(?<![A-Za-z0-9_-])"  # left boundary for token-like secrets
#: name -> patterns of the formats detect-secrets lacks (group 1, if any, is the secret)
EXTRA_DETECTORS: Final[Mapping[str, tuple[re.Pattern[str], ...]]] = {
    "OpenRouter API Key": (re.compile(_B + r"sk-or-v1-[A-Za-z0-9]{32,}"),),
    "Anthropic API Key": (re.compile(_B + r"sk-ant-[A-Za-z0-9_-]{32,}"),),
    "OpenAI API Key": (
        re.compile(_B + r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})"),
    ),
    "Google API Key": (re.compile(_B + r"AIza[0-9A-Za-z_-]{35}"),),
    "E2B API Key": (re.compile(_B + r"e2b_[A-Za-z0-9]{32,}"),),
    "Hugging Face Token": (re.compile(_B + r"hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9])"),),
    "Vault Token": (re.compile(r"(?<![A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{24,}"),),
    "Azure AD Client Secret": (
        re.compile(
            r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])"
        ),
    ),
    "Alpaca API Key ID": (re.compile(r"(?<![A-Za-z0-9])[PA]K(?!IA)[A-Z0-9]{18}(?![A-Za-z0-9])"),),
    "Stripe Test Key": (re.compile(_B + r"(?:sk|rk)_test_[0-9a-zA-Z]{24,99}(?![A-Za-z0-9])"),),
    "Sentry DSN": (
        re.compile(
            r"https?://([0-9a-f]{32})(?::[0-9a-f]{32})?@[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?"
            r"/[A-Za-z0-9_./-]{0,200}[0-9]"
        ),
    ),
    "URL Password": (
        re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://:([^@\s/{}]{1,256})@"),
    ),
    "Azure Shared Access Key": (re.compile(r"SharedAccessKey=([A-Za-z0-9+/=]{43,256})"),),
    "Connection String Password": (
        re.compile(r"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*([^;'\"\s]{4,})"),
    ),
    "Authorization Header": (
        re.compile(
            r"(?i)authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|token|basic)[ \t]{1,8}([A-Za-z0-9._~+/=-]{8,})"
        ),
    ),
}
#: kind -> a cheap linear regex a string must contain before the kind's patterns are run
_EXTRA_TRIGGERS: Final[Mapping[str, str]] = {
    "OpenRouter API Key": r"sk-or-v1-",
    "Anthropic API Key": r"sk-ant-",
    "OpenAI API Key": r"sk-",
    "Google API Key": r"AIza",
    "E2B API Key": r"e2b_",
    "Hugging Face Token": r"hf_",
    "Vault Token": r"hv[sbr]\.",
    "Azure AD Client Secret": r"[0-9]Q~",
    "Alpaca API Key ID": r"[PA]K[A-Z0-9]{18}",
    "Stripe Test Key": r"k_test_",
    "Sentry DSN": r"(?<![0-9a-f])[0-9a-f]{32}[:@]",
    "URL Password": r"://:",
    "Azure Shared Access Key": r"SharedAccessKey=",
    "Connection String Password": r"password|pwd",
    "Authorization Header": r"authorization",
}


def _entropy_ok(secret: str) -> bool:
    """A random-looking token: letters and digits, at least 10 distinct characters."""
    return (
        any(c.isdigit() for c in secret)
        and any(c.isalpha() for c in secret)
        and len(set(secret)) >= 10
    )


_EXTRA_VALID: Final[Mapping[str, Callable[[str], bool]]] = {
    "Alpaca API Key ID": lambda s: _entropy_ok(s[2:]),
    "Azure AD Client Secret": _entropy_ok,
    "Authorization Header": lambda s: len(set(s)) >= 8,
}

_EXTRAS: Final[tuple[Detector, ...]] = tuple(
    Detector(
        kind,
        patterns,
        re.compile(_EXTRA_TRIGGERS[kind], patterns[0].flags & re.I),
        _EXTRA_VALID.get(kind),
    )
    for kind, patterns in EXTRA_DETECTORS.items()
)
#: every detector, in reporting order (a header is named only when its token has no own shape)
DETECTORS: Final[tuple[Detector, ...]] = (
    tuple(d for d in _EXTRAS if d.kind != "Authorization Header")
    + DS_REWRITES
    + tuple(d for d in _EXTRAS if d.kind == "Authorization Header")
)

# --------------------------------------------------------------------------- linearity check

_ALL: Final = frozenset(range(257))  # 0..255 and 256 standing for every other code point
_DIGITS: Final = frozenset(range(48, 58))
_SPACES: Final = frozenset(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0") | {256}
_WORDS: Final = frozenset(
    [*range(48, 58), *range(65, 91), *range(97, 123), 95, *range(0xAA, 0x100)]
) | {256}
_CATEGORIES: Final[Mapping[str, frozenset[int]]] = {
    "CATEGORY_DIGIT": _DIGITS | {256},
    "CATEGORY_NOT_DIGIT": _ALL - _DIGITS,
    "CATEGORY_SPACE": _SPACES,
    "CATEGORY_NOT_SPACE": _ALL - (_SPACES - {256}),
    "CATEGORY_WORD": _WORDS,
    "CATEGORY_NOT_WORD": _ALL - (_WORDS - {256}),
}
_REPEATS: Final = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _cp(c: int) -> int:
    return c if c < 256 else 256


def _fold(chars: frozenset[int]) -> frozenset[int]:
    swapped = (chr(c).swapcase() for c in chars if c < 256)
    return chars | {_cp(ord(s)) for s in swapped if len(s) == 1}


def _charset(op: str, av: Any, icase: bool) -> frozenset[int] | None:
    """The characters one single-character element can match, or None if it is not one."""
    out: frozenset[int]
    if op == "LITERAL":
        out = frozenset({_cp(av)})
    elif op == "NOT_LITERAL":
        out = _ALL - {av} if av < 256 else _ALL
    elif op == "ANY":
        out = _ALL
    elif op == "IN":
        acc: set[int] = set()
        negate = False
        for sub_op, sub_av in av:
            name = str(sub_op)
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                acc.add(_cp(sub_av))
            elif name == "RANGE":
                lo, hi = sub_av
                acc.update(range(lo, min(hi, 255) + 1))
                if hi > 255:
                    acc.add(256)
            elif name == "CATEGORY":
                acc |= _CATEGORIES.get(str(sub_av), _ALL)
            else:
                acc |= _ALL
        out = (_ALL - acc) | ({256} if 256 in acc else set()) if negate else frozenset(acc)
        out = frozenset(out)
    else:
        return None
    return _fold(out) if icase else out


def _first(items: list[Any], icase: bool) -> tuple[frozenset[int], bool]:
    """(characters a match of ``items`` can start with, whether it can be empty)."""
    acc: frozenset[int] = frozenset()
    for op, av in items:
        name = str(op)
        single = _charset(name, av, icase)
        if single is not None:
            return acc | single, False
        if name == "SUBPATTERN":
            f, nullable = _first(list(av[3]), icase)
        elif name == "BRANCH":
            parts = [_first(list(alt), icase) for alt in av[1]]
            f = frozenset().union(*(p[0] for p in parts))
            nullable = any(p[1] for p in parts)
        elif name in _REPEATS:
            f, inner_nullable = _first(list(av[2]), icase)
            nullable = av[0] == 0 or inner_nullable
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            return _ALL, True
        acc |= f
        if not nullable:
            return acc, False
    return acc, True


def _has_repeat(items: list[Any]) -> bool:
    for op, av in items:
        name = str(op)
        if name in _REPEATS and av[1] > 1:
            return True
        if name == "SUBPATTERN" and _has_repeat(list(av[3])):
            return True
        if name == "BRANCH" and any(_has_repeat(list(alt)) for alt in av[1]):
            return True
    return False


@dataclass
class _Walk:
    icase: bool
    problems: list[str]
    guards: list[frozenset[int]]
    lookbehind: frozenset[int] = frozenset()
    anchored: bool = False


def _check_items(items: list[Any], follow: frozenset[int], w: _Walk) -> None:
    for i, (op, av) in enumerate(items):
        name = str(op)
        rest, rest_nullable = _first(items[i + 1 :], w.icase)
        after = rest | follow if rest_nullable else rest
        single = _charset(name, av, w.icase)
        if single is not None:
            w.guards.append(single)
        elif name == "AT" and i == 0 and str(av) in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
            w.anchored = w.anchored or not w.guards
        elif name == "ASSERT_NOT" and av[0] < 0 and not w.guards:
            sub = list(av[1])
            if len(sub) == 1:
                cs = _charset(str(sub[0][0]), sub[0][1], w.icase)
                if cs is not None:
                    w.lookbehind = cs
        elif name == "SUBPATTERN":
            _check_items(list(av[3]), after, w)
        elif name == "BRANCH":
            f, nullable = _first([(op, av)], w.icase)
            saved = list(w.guards)
            for alt in av[1]:
                w.guards = list(saved)
                _check_items(list(alt), after, w)
            w.guards = saved + ([f] if not nullable else [])
        elif name in _REPEATS:
            lo, hi, sub = av[0], av[1], list(av[2])
            if hi > 1 and _has_repeat(sub):
                w.problems.append("a quantifier nested in a quantifier")
            if hi > SMALL_REPEAT:
                cs = _charset(str(sub[0][0]), sub[0][1], w.icase) if len(sub) == 1 else None
                if cs is None:
                    w.problems.append("a long repeat of something other than one character class")
                    continue
                if hi > SHORT_BACKTRACK and (cs & after) - {256}:
                    w.problems.append("a long repeat followed by something its class also matches")
                guarded = (
                    not after  # the last thing in the pattern: a greedy run that cannot fail
                    or w.anchored
                    or (w.lookbehind and cs <= w.lookbehind)
                    or any(not (g & cs) - {256} for g in w.guards)
                )
                if not guarded:
                    w.problems.append(
                        "a long repeat a match could restart inside (no left guard before it)"
                    )
                if lo >= 1:
                    w.guards.append(cs)
            elif hi <= 1:
                _check_items(sub, after, w)
            elif lo >= 1:
                f, nullable = _first(sub, w.icase)
                if not nullable:
                    w.guards.append(f)
        elif name in ("ASSERT", "ASSERT_NOT"):
            inner = _Walk(w.icase, w.problems, [])
            _check_items(list(av[1]), frozenset(), inner)


def linearity_problems(pattern: re.Pattern[str]) -> list[str]:
    """Why ``pattern`` might take more than linear time under Python's backtracking engine
    (empty: it cannot). Rules: no quantifier nested in another; a repeat longer than
    :data:`SMALL_REPEAT` is over one character class, is followed by something that class cannot
    match, and is guarded on its left (a leading negative lookbehind covering its class, a ``^``
    anchor, or an earlier mandatory character outside its class), so no other match attempt can
    start inside the run it scans. Patterns within these rules scan each character a bounded
    number of times."""
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except re.error as exc:  # pragma: no cover - compiled patterns parse
        return [f"unparsable: {exc}"]
    icase = bool(parsed.state.flags & re.IGNORECASE)
    walk = _Walk(icase, [], [])
    _check_items(list(parsed), frozenset(), walk)
    return walk.problems


# --------------------------------------------------------------------------- key names

_CAMEL_RE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT_RE: Final = re.compile(r"[^A-Za-z0-9]+")
_SENSITIVE_SUBSTRINGS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "accountkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "sharedkey",
    "appkey",
    "connectionstring",
    "credential",
    "cookie",
    "mnemonic",
    "seedphrase",
)
_SENSITIVE_TOKENS: Final = frozenset(
    {"pwd", "pass", "dsn", "auth", "sas", "bearer", "pat", "mnemonic", "seed", "pw"}
)
#: exchanges and brokers whose "key" is a credential (``BINANCE_KEY``, ``alpacaSecret``)
_EXCHANGE_TOKENS: Final = frozenset(
    {
        "alpaca",
        "binance",
        "coinbase",
        "kraken",
        "bybit",
        "okx",
        "bitfinex",
        "bitstamp",
        "kucoin",
        "gemini",
        "deribit",
        "polygon",
        "ib",
        "ibkr",
        "oanda",
        "exchange",
        "broker",
    }
)
#: a last name token that makes the value a reference or a setting, not the secret itself
_NEUTRAL_LAST_TOKENS: Final = frozenset(
    {
        "name", "names", "arn", "arns", "id", "ids", "urn", "path", "file", "filename",
        "length", "len", "ttl", "expiry", "expiration", "expires", "version", "versions",
        "stage", "stages", "policy", "policies", "role", "roles", "cidr", "cidrs", "uses",
        "period", "audience", "audiences", "type", "types", "enabled", "disabled", "count",
        "size", "rotation", "required", "min", "max", "url", "uri", "endpoint", "algorithm",
        "algorithms", "format", "prefix", "suffix", "hint", "hash", "authentication", "date",
        "time", "days", "hours", "minutes", "seconds", "age", "mode", "ref", "reference",
        "source", "provider", "manager", "store", "vault", "kms", "key", "keys", "spec",
        "usage", "status", "state", "description", "region", "lifetime", "duration",
        "timeout", "interval", "header", "headers", "issuer", "issuers", "scope", "scopes",
        "method", "methods", "location", "label", "labels", "tag", "tags", "owner", "user",
        "username", "email", "host", "port", "attempts", "retries", "limit", "threshold",
        "window", "strategy", "schedule", "class", "level", "sub", "subject",
        "claim", "claims", "field", "param", "parameter", "env", "variable", "secretref",
        "kid", "enforced", "complexity", "history", "reset", "validity", "grace", "yaml", "yml",
        "json", "conf", "cfg", "ini", "properties", "txt", "toml", "xml", "sh", "help", "note",
        "notes", "comment", "message", "text", "docs", "instructions",
    }
)  # fmt: skip


@functools.lru_cache(maxsize=8192)
def _name_tokens(name: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in _SPLIT_RE.split(_CAMEL_RE.sub(" ", name)) if t)


@functools.lru_cache(maxsize=8192)
def is_sensitive_key(name: str) -> bool:
    """True when a field/variable name says its value is a credential.

    ``password``, ``secret``, ``token``, ``api_key``, ``private_key``, ``connection_string``,
    ``dsn``, ``cookie``, ``mnemonic``, an exchange's ``key``/``secret``... in snake, kebab,
    camel or upper case; but not names of references or settings about a credential
    (``secret_arn``, ``kms_key_id``, ``password_length``, ``token_ttl``, ``secretName``,
    ``publicKey``, ``SESSION_TOKEN_LIFETIME``, ``API_KEY_HEADER``, ``auth_mode``).
    """
    # Namespaced names ("aws:secretKey", "proj:dbPassword", IAM condition keys such as
    # "token.actions.githubusercontent.com:sub") are judged by their last segment.
    tokens = _name_tokens(name.rsplit(":", 1)[-1])
    if not tokens:
        return False
    last = tokens[-1]
    if last in _NEUTRAL_LAST_TOKENS and not (last in ("key", "keys") and len(tokens) > 1):
        return False
    if "public" in tokens:
        return False
    if any(t in _SENSITIVE_TOKENS for t in tokens):
        return True
    compact = "".join(tokens)
    if any(s in compact for s in _SENSITIVE_SUBSTRINGS):
        return True
    return last in ("key", "keys") and any(t in _EXCHANGE_TOKENS for t in tokens)


def _names_exchange(name: str | None) -> bool:
    return name is not None and any(t in _EXCHANGE_TOKENS for t in _name_tokens(name))


# --------------------------------------------------------------------------- names of references

#: credential words whose ``...Key`` names the key holding that credential inside a Secret
#: (``passwordKey``, ``userPasswordKey``, ``existingSecretPasswordKey``, ``tokenKey``), unlike
#: ``secretKey``/``apiKey``/``privateKey``/``accessKey``, which are credentials themselves
_KEY_OF_WORDS: Final = frozenset(
    {"password", "passwd", "pwd", "token", "username", "user", "credential", "credentials",
     "cookie", "passphrase", "dsn", "mnemonic"}
)  # fmt: skip
#: Kubernetes object names and Secret data keys (``redis-auth``, ``tls.crt``, ``DB_PASSWORD``)
_OBJECT_KEY_RE: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
_DNS_CHARS_RE: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{0,251}[a-z0-9]$")


def _dns_name_with_separator(v: str) -> bool:
    """A DNS-1123 name with a separator (``trading-api-token``, ``db.credentials``)."""
    return (
        bool(_DNS_CHARS_RE.match(v))
        and ("-" in v or "." in v)
        and ".." not in v
        and ".-" not in v
        and "-." not in v
    )


@functools.lru_cache(maxsize=8192)
def _reference_name(name: str) -> int:
    """2: the name says its value names a Secret or a key in one (Helm's ``existingSecret``,
    ``existingSecretPasswordKey``, ``passwordKey``, ``secretKeys.adminPasswordKey``,
    ``apiKeySecretKey``); 1: it may (``passwordSecret``, ``apiKeySecret``, ``DB_PASSWORD_SECRET``,
    ``tokenSecret``: a Secret's name, or an OAuth token secret); 0: it does not."""
    tokens = _name_tokens(name.rsplit(":", 1)[-1])
    if len(tokens) < 2:
        return 0
    credential_before = any(t in _KEY_OF_WORDS for t in tokens[:-1]) or "apikey" in "".join(
        tokens[:-1]
    )
    if "existing" in tokens and (credential_before or "secret" in tokens or "secrets" in tokens):
        return 2
    last, prev = tokens[-1], tokens[-2]
    if last in ("key", "keys"):
        if prev in _KEY_OF_WORDS:
            return 2
        if prev in ("secret", "secrets") and len(tokens) >= 3:
            before = tokens[:-2]
            if any(t in _KEY_OF_WORDS for t in before) or "apikey" in "".join(before):
                return 2
        return 0
    if last in ("secret", "secrets") and credential_before:
        return 1
    return 0


def names_a_reference(key: str | None, value: str) -> bool:
    """Whether ``value`` under ``key`` names a Secret or a key inside one rather than holding a
    credential: a chart value such as ``existingSecret: redis-auth``, ``passwordKey:
    postgres-password``, ``apiKeySecret: alpaca-keys``. Under a name that says so (see
    :func:`_reference_name`), a value shaped like a Kubernetes object name or Secret key and not
    like a password (upper case, lower case and digits together); under a name that only may,
    a lower-case DNS name with a separator. A credential's own format is reported whatever the
    name (the format detectors run first)."""
    if key is None:
        return False
    kind = _reference_name(key)
    if kind == 0:
        return False
    v = value.strip()
    if kind == 1:
        return _dns_name_with_separator(v)
    return _object_name(v)


def _object_name(v: str) -> bool:
    """Shaped like a Kubernetes object name or a Secret's data key, not like a password (upper
    case, lower case and digits together)."""
    if not _OBJECT_KEY_RE.match(v):
        return False
    return not (
        any(c.isupper() for c in v) and any(c.islower() for c in v) and any(c.isdigit() for c in v)
    )


#: fields that name a secret in a typed reference object, and the fields beside them that make
#: the object one: ``{"key": "DB_PASSWORD", "projectId": ..., "secret": "db-password",  # pragma: allowlist secret
#: "version": "latest"}`` (GCP Cloud Functions' secretEnvironmentVariables / secretVolumes),
#: ``{"secretName": ..., "key": ...}``
_REFERENCE_FIELDS: Final = ("secret", "secretName", "secretId", "secret_name", "secret_id")
_REFERENCE_SIBLINGS: Final = frozenset(
    {"version", "projectId", "project", "project_id", "key", "mountPath", "mount_path",
     "versions", "optional", "property", "path"}
)  # fmt: skip


def _reference_field(value: Mapping[Any, Any]) -> Any:
    """The field of a typed secret reference object that names the secret (None otherwise)."""
    if _REFERENCE_SIBLINGS.isdisjoint(value):
        return None
    for f in _REFERENCE_FIELDS:
        v = value.get(f)
        if isinstance(v, str) and _object_name(v.strip()):
            return f
    return None


#: ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:=default}``: a shell default is a value
_SHELL_DEFAULT_RE: Final = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]{0,127}:?[-=]([^{}]{1,4096})\}$")


def _shell_default(value: str) -> str | None:
    """The default of a ``${NAME:-default}`` interpolation (the literal used when NAME is unset),
    None for any other value."""
    m = _SHELL_DEFAULT_RE.match(value)
    return m.group(1).strip() if m else None


# --------------------------------------------------------------------------- placeholders

_PLACEHOLDER_RES: Final = (
    re.compile(r"^\$\{[^}]*\}$"),  # ${VAR}, ${var:-default}
    re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$"),  # $VAR
    re.compile(r"^%\([^)]*\)s$"),  # %(name)s
    re.compile(r"^<[^<>]*>$"),  # <redacted>, <your-api-key>
    re.compile(r"^\[[^\[\]]*\]$"),  # [secret], [REDACTED]
    re.compile(r"^[*•.#?_-]+$"),  # ****, ...., ----
    re.compile(r"(?i)^(?:your|my|insert|enter|put|replace|add)[-_ ]"),  # your-api-key-here
)
_PLACEHOLDER_WORDS: Final = frozenset(
    {
        "changeme", "change-me", "change_me", "changeit", "replaceme", "replace-me",
        "replace_me", "todo", "tbd", "fixme", "placeholder", "redacted", "removed", "hidden",
        "masked", "secret", "password", "passwd", "pass", "none", "null", "nil", "undefined",
        "empty", "n/a", "na", "dummy", "example", "sample", "test", "true", "false",
    }
)  # fmt: skip
_FILLER_RE: Final = re.compile(r"[xX0]{4}")
_X_RUN_RE: Final = re.compile(r"[xX]{8}|(?<![A-Za-z0-9])[xX]{4,}(?![A-Za-z0-9])")
_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz"
_ALPHABET_RUNS: Final = tuple(_ALPHABET[i : i + 8] for i in range(len(_ALPHABET) - 7))
_PEM_MATERIAL_RE: Final = re.compile(r"[^A-Za-z0-9+/=]")


def _pem_body(text: str, start: int = 0) -> str | None:
    """The body after the first ``BEGIN ... PRIVATE KEY`` header at/after ``start`` up to its
    ``-----END``, or None when there is no END (a truncated value). Plain ``str.find``: linear."""
    begin = text.find("PRIVATE KEY", start)
    if begin < 0:
        return None
    header_end = text.find("-----", begin)
    if header_end < 0:
        return None
    end = text.find("-----END", header_end + 5)
    return None if end < 0 else text[header_end + 5 : end]


def _pem_is_placeholder(text: str) -> bool:
    """True for an elided documentation key: a body such as ``MHc...`` or under 16 chars."""
    body = _pem_body(text)
    if body is None:
        return False  # no END line: a truncated value, still report it
    body = body.replace("\\n", "\n")
    material = _PEM_MATERIAL_RE.sub("", body)
    return "..." in body or "…" in body or len(material) < 16


def looks_like_placeholder(value: object) -> bool:
    """True for template/documentation values that are not real credentials.

    ``${VAR}``, ``$VAR``, ``{{ var }}``, ``<redacted>``, ``[secret]``, ``****``, ``xxxx``-style
    filler (also after a prefix: ``sk-xxxx``, ``AIzaSyXXXX``), ``changeme``/``placeholder``/
    ``password``-style words and ``your-...-here``. Non-strings and empty strings count as
    placeholders (nothing to protect).
    """
    if not isinstance(value, str):
        return True
    v = value.strip()
    if not v:
        return True
    if v.lower() in _PLACEHOLDER_WORDS:
        return True
    if (v.startswith("{{") and v.endswith("}}")) or (v.startswith("${{") and v.endswith("}}")):
        return True  # {{ template }}, ${{ secrets.API_KEY }} (GitHub Actions)
    if any(r.search(v) for r in _PLACEHOLDER_RES):
        return True
    if _X_RUN_RE.search(v):
        return True  # "sk-xxxxxxxx...", "organizations/xxxxx/apiKeys/xxxxx", "key_xxxx@"
    if "PRIVATE KEY" in v and _pem_is_placeholder(v):
        return True
    lowered = v.lower()
    if any(run in lowered for run in _ALPHABET_RUNS):
        return True  # "123456789:ABCdefGHIjklMNOpqrsTUVwxyz"-style documentation values
    if _FILLER_RE.search(v):
        alnum = [c for c in v if c.isalnum()]
        filler = sum(1 for c in alnum if c in "xX0")
        if alnum and filler / len(alnum) >= 0.6:
            return True
    return False


# --------------------------------------------------------------------------- name + value

_REFERENCE_RE: Final = re.compile(
    r"^(?:arn:|urn:|projects/|/|\./|~/|[A-Za-z]:\\|file:|vault:|ssm:|secretsmanager:"
    r"|@Microsoft\.KeyVault\(|https?://[^:@/\s]+(?::\d+)?(?:/[^@\s]*)?$"
    r"|[a-z][a-z0-9+.-]{0,31}://[^@\s]*$)"
)
_SEGMENT_RE: Final = re.compile(r"^[a-z0-9_.-]+$")
_HEADER_RE: Final = re.compile(r"^[A-Z][a-z]*$")
#: provider enum values (``SYMMETRIC_DEFAULT``, ``ENCRYPT_DECRYPT``) are settings
_ENUM_CONSTANT_RE: Final = re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]*$")
_WHOLE_ID_RE: Final = re.compile(r"^(?:arn:aws[\w-]*:|urn:pulumi:)\S*$")
_HEX32_RE: Final = re.compile(r"^[0-9a-f]{32}$", re.I)
_HEX40_RE: Final = re.compile(r"^[0-9a-f]{40}$", re.I)
_EXCHANGE_SECRET_RE: Final = re.compile(r"^[A-Za-z0-9]{64}$")
_DURATION_RE: Final = re.compile(r"^[0-9]{1,9}(?:\.[0-9]{1,3})?(?:ns|us|ms|s|m|h|d|w|y)?$", re.I)
_SETTING_WORDS: Final = frozenset(
    {
        "oidc", "oauth", "oauth2", "saml", "basic", "bearer", "digest", "iam", "jwt", "hmac",
        "apikey", "api_key", "api-key", "token", "kerberos", "ldap", "mtls", "tls", "ssl",
        "sigv4", "aws_iam", "none", "disabled", "enabled", "required", "optional", "strict",
        "managed_identity", "managedidentity", "service_account", "workload_identity", "msi",
        "approle",
        "kubernetes", "github", "google", "azure", "okta", "auth0", "cognito", "hs256",
        "hs384", "hs512", "rs256", "rs384", "rs512", "es256", "es384", "es512", "eddsa",
        "sha256", "sha512", "aes256", "aes-256-gcm", "on", "off", "yes", "no", "auto", "env",
        "file", "vault", "plain", "plaintext", "scram-sha-256", "md5", "trust", "password",
        "peer", "cert", "header", "query", "cookie", "body", "x-api-key", "authorization",
    }
)  # fmt: skip


def _name_like(v: str) -> bool:
    """A secret's name/path in a secret manager (``neural-trader/production/alpaca/secret-key``)
    or an HTTP header name (``X-Api-Key``)."""
    if "/" in v:
        parts = v.split("/")
        return len(parts) > 1 and all(_SEGMENT_RE.fullmatch(p) for p in parts)
    if "-" in v:
        parts = v.split("-")
        return len(parts) > 1 and all(_HEADER_RE.fullmatch(p) for p in parts)
    return False


def value_could_be_secret(value: str) -> bool:
    """Whether a value under a credential-like name could be the credential itself (the value
    half of the name + value judgement): not a placeholder, number of up to 6 digits, boolean,
    duration, auth scheme or algorithm word, reference, resource or header name, enum constant,
    prose, or a detect-secrets heuristic false positive (sequential string)."""
    v = value.strip()
    if len(v) < 4 or looks_like_placeholder(v) or v.startswith("$"):
        return False  # "$(aws secretsmanager ...)", "$VAR": a reference (detect-secrets' filter)
    if v.isdigit() and len(v) <= 6:
        return False
    if v.lower() in _SETTING_WORDS or _DURATION_RE.match(v):
        return False
    if (
        _REFERENCE_RE.match(v)
        or (_ENUM_CONSTANT_RE.match(v) and not v.endswith("_"))
        or _name_like(v)
    ):
        return False
    if _settings_string(v):
        return False
    if v.count(" ") >= 5:
        return False  # prose; seed phrases are judged on their own
    return not _sequential(v)


def _settings_string(v: str) -> bool:
    """``Server=...;Database=...;Authentication=Active Directory Managed Identity``: a
    connection string of settings, none of them named like a credential."""
    fields = [p.split("=", 1)[0].strip() for p in v.split(";") if "=" in p]
    return len(fields) >= 2 and not any(is_sensitive_key(f) for f in fields)


@functools.lru_cache(maxsize=8192)
def _key_class(key: str) -> tuple[bool, bool]:
    """(names Datadog, names an exchange) for a key name."""
    compact = "".join(_name_tokens(key))
    dd = "datadog" in compact or "ddapi" in compact or "ddapp" in compact
    return dd, _names_exchange(key)


def _keyed_kind(key: str | None, value: str) -> str | None:
    """Formats recognised only with the name: Datadog keys (hex) and exchange secrets."""
    if key is None:
        return None
    dd, exchange = _key_class(key)
    if not (dd or exchange):
        return None
    v = value.strip()
    if dd:
        if _HEX32_RE.match(v):
            return "Datadog API Key"
        if _HEX40_RE.match(v):
            return "Datadog Application Key"
    if (
        exchange
        and _EXCHANGE_SECRET_RE.match(v)
        and _entropy_ok(v)
        and any(c.isupper() for c in v)
        and any(c.islower() for c in v)
    ):
        return "Exchange API Key"
    return None


# --------------------------------------------------------------------------- text: pairs, seeds

#: ``NAME=value``, ``export NAME="value"``, ``--name=value``, ``?name=value&``
_ASSIGN_RE: Final = re.compile(
    r"(?<![A-Za-z0-9_.-])-{0,2}([A-Za-z_][A-Za-z0-9_.-]{0,127})[\"']?[ \t]{0,8}="
    r"[ \t]{0,8}(?:\"([^\"\n=]{1,4096}={0,2})\"|'([^'\n=]{1,4096}={0,2})'"
    r"|([^\s\"'&;,|)=`]{1,256}={0,2}))"
)
#: ``name: value`` at the start of a line (YAML, HTTP headers), not in prose
_LINE_PAIR_RE: Final = re.compile(
    r"^[ \t]{0,64}(?:- )?[\"']?([A-Za-z_][A-Za-z0-9_.-]{0,127})[\"']?:[ \t]{1,8}"
    r"(?:\"([^\"\n]{1,4096})\"|'([^'\n]{1,4096})'|([^\s\"'#][^\s\"']{0,255}))[ \t]{0,8}$",
    re.M,
)
#: ``--password value``, ``-token value``
_FLAG_RE: Final = re.compile(
    r"(?<!\S)--?([A-Za-z][A-Za-z0-9_-]{0,63})[ \t]{1,8}(?:\"([^\"\n]{1,256})\"|'([^'\n]{1,256})'"
    r"|([^\s\"'=;|&-][^\s\"';|&]{0,255}))"
)
#: ``mysql -p'secret'``, ``-psecret`` (attached: the password), ``curl -u user:password``
_SHORT_PASSWORD_RE: Final = re.compile(
    r"(?<!\S)(?:-p(?:'([^'\n]{1,256})'|\"([^\"\n]{1,256})\"|([^\s'\"-][^\s'\"]{0,255}))"
    r"|(?:-u|--user)[ \t]{0,8}['\"]?[^\s:'\"]{1,128}:([^\s'\"@]{1,256}))"
)
_FLAG_ONLY_RE: Final = re.compile(r"^--?([A-Za-z][A-Za-z0-9_-]{0,63})$")
_PAIR_TRIGGER: Final = re.compile(r"[=]|: |(?<!\S)-")


def _text_pairs(text: str) -> Iterator[tuple[str, str]]:
    """(name, value) assignments found in free text (shell, env files, YAML, command lines,
    query strings); ``-p``/``-u user:`` values are named ``password``."""
    if not _PAIR_TRIGGER.search(text):
        return
    if "=" in text:
        for m in _ASSIGN_RE.finditer(text):
            yield m.group(1), m.group(2) or m.group(3) or m.group(4) or ""
    if ": " in text or ":\t" in text:
        for m in _LINE_PAIR_RE.finditer(text):
            yield m.group(1), m.group(2) or m.group(3) or m.group(4) or ""
    if " -" in text or text.startswith("-"):
        for m in _FLAG_RE.finditer(text):
            yield m.group(1), m.group(2) or m.group(3) or m.group(4) or ""
        for m in _SHORT_PASSWORD_RE.finditer(text):
            yield "password", next((g for g in m.groups() if g), "")


_BIP39_WORDS_MIN: Final = 12
_BIP39_LENGTHS: Final = (24, 21, 18, 15, 12)
_BIP39_MAX_RUN: Final = 96  # longer runs of wordlist words are prose, not a seed phrase
_WORD_STRIP: Final = ".,;:\"'()[]{}0123456789#-*"


@functools.cache
def _bip39_index() -> Mapping[str, int]:
    words = _BIP39_ENGLISH.split()
    return {w: i for i, w in enumerate(words)}


def _bip39_checksum_ok(indices: list[int]) -> bool:
    n = len(indices)
    cs_bits = n // 3
    ent_bits = n * 11 - cs_bits
    value = 0
    for i in indices:
        value = (value << 11) | i
    entropy = value >> cs_bits
    digest = hashlib.sha256(entropy.to_bytes(ent_bits // 8, "big")).digest()
    return digest[0] >> (8 - cs_bits) == value & ((1 << cs_bits) - 1)


def _seed_phrases(text: str, named: bool) -> list[int]:
    """Word counts of BIP-39 seed phrases in ``text``: 12-24 consecutive wordlist words with a
    valid checksum, or (``named``: under a seed/credential name) any run of 12+ such words."""
    index = _bip39_index()
    found: list[int] = []
    run: list[int] = []

    def close() -> None:
        n = len(run)
        if n < _BIP39_WORDS_MIN or n > _BIP39_MAX_RUN:
            return
        for length in _BIP39_LENGTHS:
            for start in range(n - length + 1):
                if _bip39_checksum_ok(run[start : start + length]):
                    found.append(length)
                    return
        if named:
            found.append(n)

    for raw in text.split():
        word = raw.strip(_WORD_STRIP).lower()
        if not word:
            continue  # "1." numbering between words
        i = index.get(word)
        if i is None:
            close()
            run = []
        else:
            run.append(i)
    close()
    return found


# --------------------------------------------------------------------------- decoding

_B64_RE: Final = re.compile(r"^[A-Za-z0-9+/_-]{24,}={0,2}$")
_WS_RE: Final = re.compile(r"\s+")


def _decode(text: str) -> tuple[str, str] | None:
    """(decoded text, "base64" or "base64+gzip") when ``text`` is base64 of UTF-8 text (or of
    gzip of it), else None. Output is capped at :data:`MAX_DECODED` bytes."""
    compact = _WS_RE.sub("", text) if ("\n" in text or " " in text) else text
    if len(compact) > MAX_DECODED * 4 // 3 + 4 or not _B64_RE.match(compact):
        return None
    padded = compact + "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    note = "base64"
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, MAX_DECODED)
        except zlib.error:
            return None
        note = "base64+gzip"
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    sample = decoded[:4096]
    printable = sum(1 for c in sample if c.isprintable() or c in "\n\r\t")
    if not sample or printable < 0.95 * len(sample):
        return None
    return decoded, note


# --------------------------------------------------------------------------- scanning

_TELEGRAM_CONTEXT_RE: Final = re.compile(
    r"(?:(?<![\w:/-])|(?<=/bot)|(?<=^bot))\d{8,10}:[0-9A-Za-z_-]{35}(?![\w-])"
)
_MIN_SECRET_LEN: Final = 4
_MIN_SCAN_LEN: Final = 8
_KNOWN_PREFIXES: Final = (
    "sk-or-v1-", "sk-ant-api03-", "sk-ant-admin01-", "sk-ant-", "sk-proj-", "sk-svcacct-",
    "sk-admin-", "sk-", "AKIA", "ASIA", "AIza", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-",
    "xoxo-", "ghp_", "gho_", "github_pat_", "glpat-", "npm_", "pypi-", "e2b_", "hf_", "hvs.",
    "hvb.", "eyJ", "https://hooks.slack.com/services/",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CredentialHit:
    """A credential found at ``path``; ``hint`` is redacted (never the value)."""

    path: str
    kind: str
    hint: str


def all_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """(name, pattern) of every regular expression this module runs on values (for the
    linearity test and anyone auditing the detector)."""
    out: list[tuple[str, re.Pattern[str]]] = []
    for det in DETECTORS:
        out.extend((det.kind, p) for p in det.patterns)
        out.append((f"{det.kind} (trigger)", det.trigger))
    for name, value in sorted(globals().items()):
        if name.endswith("_RE") and isinstance(value, re.Pattern):
            out.append((name, value))
        elif name == "_PLACEHOLDER_RES":
            out.extend((f"{name}[{i}]", p) for i, p in enumerate(value))
    return out


def _scoped(pattern: re.Pattern[str]) -> str:
    src = pattern.pattern
    flags = "i" if pattern.flags & re.IGNORECASE else ""
    if src.startswith("(?i)"):
        src, flags = src[4:], "i"
    return f"(?{flags}:{src})" if flags else f"(?:{src})"


class Prefilter(Protocol):
    """What the prefilter offers: ``search(text)`` is None when no trigger can match."""

    def search(self, text: str) -> object | None: ...


_LOOKAROUNDS: Final = ("(?=", "(?!", "(?<=", "(?<!")
#: escapes whose meaning differs between the engines (Unicode in Python, ASCII in RE2)
_UNICODE_CLASSES: Final = frozenset("dDwWsSbB")


def _loosened(pattern: re.Pattern[str]) -> str:
    """``pattern`` (case-insensitivity scoped) in RE2's syntax, matching wherever it matches:
    its lookaround groups are dropped (a lookaround only ever narrows a match). ValueError for a
    pattern this cannot carry over faithfully (``\\d``, ``\\w``, ``\\s``, ``\\b``: RE2 reads
    them as ASCII only). One pass over the source: escapes, classes and groups tracked."""
    src = _scoped(pattern)
    out: list[str] = []
    groups: list[bool] = []  # per open group: is it a lookaround?
    dropped = 0  # lookaround groups open around the current position
    i, in_class = 0, False
    while i < len(src):
        token = src[i]
        closing = False
        if token == "\\":
            if src[i + 1 : i + 2] in _UNICODE_CLASSES:
                raise ValueError(f"trigger {pattern.pattern!r}: spell classes out ([0-9], not \\d)")
            token = src[i : i + 2]
        elif in_class:
            in_class = token != "]"
        elif token == "[":
            # "[]...]" and "[^]...]": a "]" first in a class is a member, not its end
            token = next(t for t in ("[^]", "[]", "[^", "[") if src.startswith(t, i))
            in_class = True
        elif token == "(":
            groups.append(src.startswith(_LOOKAROUNDS, i))
            dropped += groups[-1]
        elif token == ")":
            closing = True
        if not dropped:
            out.append(token)
        if closing:
            dropped -= groups.pop()
        i += len(token)
    return "".join(out)


@functools.cache
def _prefilter() -> Prefilter:
    """One alternation of every detector's trigger, loosened (:func:`_loosened`), run by RE2: a
    DFA, one pass over the text whatever the number of alternatives (Python's engine tries each
    alternative at each position: 30 us for a 140-character message, against 2.4 us here).
    Strings it does not match skip the per-detector loop (most values); a string it matches is
    judged by the detectors' own patterns, so loosening it changes no result."""
    import re2

    return _Utf8Search(re2.compile("|".join(_loosened_triggers()).encode()))


@functools.cache
def _loosened_triggers() -> tuple[str, ...]:
    """Every detector's trigger, loosened (:func:`_loosened`), in :data:`DETECTORS` order: the
    one source of both the prefilter's alternation and the set that picks detectors."""
    return tuple(_loosened(d.trigger) for d in DETECTORS)


@functools.cache
def _trigger_set() -> Any:
    """Every detector's loosened trigger in one RE2 set: which of them occur in a text, in one
    pass."""
    import re2

    triggers = re2.Set.SearchSet()
    for source in _loosened_triggers():
        triggers.Add(source.encode())
    triggers.Compile()
    return triggers


def _candidates(text: str) -> Sequence[Detector]:
    """The detectors whose trigger may occur in ``text`` (a text the prefilter let through), in
    :data:`DETECTORS` order: those whose loosened trigger the RE2 set finds. An RE2 set that
    runs out of memory reports no match at all, with no error; the prefilter has matched, so an
    empty answer means that, and every detector is tried."""
    found = _trigger_set().Match(text.encode("utf-8", "surrogatepass"))
    return [DETECTORS[i] for i in sorted(found)] if found else DETECTORS


class _Utf8Search:
    """An RE2 pattern compiled from UTF-8 bytes, searched in a string's UTF-8 bytes: the same
    matches as on the string (RE2 reads both as UTF-8), without the wrapper's conversion of
    byte offsets to character offsets (1.5 us a short text instead of 2.4)."""

    __slots__ = ("_pattern",)

    def __init__(self, pattern: Any) -> None:
        self._pattern = pattern

    def search(self, text: str) -> object | None:
        return cast(object | None, self._pattern.search(text.encode("utf-8", "surrogatepass")))


def _hint(kind: str, secret: str, note: str) -> str:
    suffix = f", in {note}" if note else ""
    if kind == "Private Key":
        header = secret.strip("- ")
        return (f"-----{header}-----" if "PRIVATE KEY" in header else "private key") + suffix
    if kind == SEED_PHRASE_KIND:
        return f"… ({secret} words){suffix}"
    for prefix in _KNOWN_PREFIXES:
        if secret.startswith(prefix) and len(secret) > len(prefix) + 8:
            return f"{prefix}… ({len(secret)} chars){suffix}"
    return f"… ({len(secret)} chars){suffix}"


def _strip_prefix(value: str) -> str:
    for prefix in _KNOWN_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _accept(det: Detector, secret: str, parts: tuple[str, ...], text: str) -> bool:
    if det.kind == "Private Key":
        return not _pem_is_placeholder(text)  # the match is the header, not the key material
    if len(secret) < _MIN_SECRET_LEN:
        return False
    if any(looks_like_placeholder(_strip_prefix(p)) for p in (secret, *parts)):
        return False
    if det.valid is not None and not det.valid(secret):
        return False
    if det.kind == "Telegram Bot Token":
        return bool(_TELEGRAM_CONTEXT_RE.search(text))
    return True


def _format_hits(text: str, *, prefiltered: bool = False) -> Iterator[tuple[str, str]]:
    """(kind, secret) of every format detector's finds in ``text`` (one window);
    ``prefiltered``: the caller has just checked this very text against the prefilter."""
    if not prefiltered and (len(text) < _MIN_SCAN_LEN or not _prefilter().search(text)):
        return
    for det in _candidates(text):
        first = det.trigger.search(text)
        if first is None:
            continue
        for pattern in det.patterns:
            for m in _matches(det, pattern, text, first):
                groups = tuple(g for g in m.groups() if g)
                longest = max(groups, key=len, default="")
                secret = longest if len(longest) >= 6 else m.group(0)
                if _accept(det, secret, (m.group(0), *groups), text):
                    yield det.kind, secret


def _matches(
    det: Detector, pattern: re.Pattern[str], text: str, first: re.Match[str]
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``; for a detector whose matches lie near its trigger's
    (:attr:`Detector.near`), run only over the merged spans around the trigger's matches (the
    same matches: each one lies inside one span, and ``pos``/``endpos`` keep lookbehinds and
    ``^`` as over the whole text)."""
    if det.near is None:
        yield from pattern.finditer(text)
        return
    before, after = det.near
    spans: list[list[int]] = []
    for t in itertools.chain((first,), det.trigger.finditer(text, first.end())):
        lo, hi = max(0, t.start() - before), min(len(text), t.end() + after)
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], hi)
        else:
            spans.append([lo, hi])
    for lo, hi in spans:
        yield from pattern.finditer(text, lo, hi)


def _windows(text: str) -> Iterator[str]:
    if len(text) <= WINDOW + OVERLAP:
        yield text
        return
    for start in range(0, len(text), WINDOW):
        yield text[start : start + WINDOW + OVERLAP]
        if start + WINDOW + OVERLAP >= len(text):
            return


@dataclass
class _Scan:
    out: list[CredentialHit]
    depth_left: int = _MAX_LAYERS


def _scan_text(text: str, path: str, key: str | None, note: str, scan: _Scan) -> bool:
    """Report what ``text`` holds (formats, named pairs, seed phrases, decoded layers) at
    ``path``; True when something was reported."""
    seen: set[str] = set()
    reported = False

    def report(kind: str, secret: str) -> None:
        nonlocal reported
        if secret in seen:
            return
        seen.add(secret)
        reported = True
        scan.out.append(CredentialHit(path, kind, _hint(kind, secret, note)))

    named = key is not None and is_sensitive_key(key)
    pairs = _may_have_pairs(text)
    words = len(text) >= 48 and text.count(" ") + text.count("\n") >= _BIP39_WORDS_MIN - 1
    for window in _windows(text):
        for kind, secret in _format_hits(window):
            report(kind, secret)
        for name, value in _text_pairs(window) if pairs else ():
            v = value.strip()
            keyed = _keyed_kind(name, v)
            if keyed and not looks_like_placeholder(v):
                report(keyed, v)
            elif (
                is_sensitive_key(name)
                and value_could_be_secret(v)
                and not _LOWER_WORD_RE.match(v)  # one plain word in text: prose, not a value
                and not names_a_reference(name, v)
                and not _covered(v, seen)
            ):
                report(SENSITIVE_KEY_KIND, v)
        if words and window.count(" ") + window.count("\n") >= _BIP39_WORDS_MIN - 1:
            for count in _seed_phrases(window, named):
                report(SEED_PHRASE_KIND, str(count))
    if scan.depth_left > 0 and len(text) >= 24 and _B64_TEXT_RE.match(text):
        decoded = _decode(text.strip())
        if decoded is not None:
            inner, how = decoded
            scan.depth_left -= 1
            sub = _Scan([], scan.depth_left)
            _walk_str(inner, path, key, f"{how}+{note}" if note else how, sub, 0)
            scan.depth_left += 1
            for hit in sub.out:
                reported = True
                scan.out.append(hit)
    return reported


_B64_TEXT_RE: Final = re.compile(r"^[A-Za-z0-9+/_=\s-]{24,}$")


def _may_have_pairs(text: str) -> bool:
    return "=" in text or ": " in text or ":\t" in text or " -" in text or text[:1] == "-"


def _may_hold_something(text: str) -> bool:
    """Cheap test (C-speed checks first): could :func:`_scan_text` find anything in ``text``?"""
    n = len(text)
    if n < _MIN_SCAN_LEN:
        return False
    return bool(
        _may_have_pairs(text)
        or (n >= 48 and " " in text)  # could be a seed phrase
        or _prefilter().search(text)
        or (n >= 24 and _B64_TEXT_RE.match(text))  # could be encoded
    )


def _covered(value: str, seen: set[str]) -> bool:
    """A pair's value that is, holds or is part of a secret already reported."""
    return any(s in value or value in s for s in seen)


_LOWER_WORD_RE: Final = re.compile(r"^[a-z]{1,12}$")


_CACHE_MAX_LEN: Final = 4096
_BASE: Final = "\x00"  # stands for the path in cached results


def _rebase(hit_path: str, path: str) -> str:
    rest = hit_path[len(_BASE) :]
    if not path and rest.startswith("."):
        rest = rest[1:]
    return path + rest


@functools.lru_cache(maxsize=32768)
def _string_hits(
    text: str, key: str | None, note: str, depth_left: int
) -> tuple[tuple[str, str, str], ...]:
    """(path relative to :data:`_BASE`, kind, hint) of one string's hits: states repeat the
    same values (inputs and outputs, shared documents), so each distinct one is judged once."""
    sub = _Scan([], depth_left)
    _scan_string_uncached(text, _BASE, key, note, sub)
    return tuple((h.path, h.kind, h.hint) for h in sub.out)


def _scan_string(text: str, path: str, key: str | None, note: str, scan: _Scan) -> None:
    if len(text) > _CACHE_MAX_LEN:
        _scan_string_uncached(text, path, key, note, scan)
        return
    for rel, kind, hint in _string_hits(text, key, note, scan.depth_left):
        scan.out.append(CredentialHit(_rebase(rel, path), kind, hint))


def _scan_string_uncached(text: str, path: str, key: str | None, note: str, scan: _Scan) -> None:
    stripped = text.strip()
    if not stripped or _WHOLE_ID_RE.match(stripped):
        return
    keyed = _keyed_kind(key, stripped)
    if keyed and not looks_like_placeholder(stripped):
        scan.out.append(CredentialHit(path, keyed, _hint(keyed, stripped, note)))
        return
    if _may_hold_something(stripped) and _scan_text(text, path, key, note, scan):
        return
    if key is None or "\n" in stripped or not is_sensitive_key(key):
        return  # text (a script, a file) is judged by what it holds
    default = _shell_default(stripped)
    if default is not None:
        stripped = default  # ${DB_PASSWORD:-literal}: the literal is deployed when unset
    if names_a_reference(key, stripped):
        return
    if value_could_be_secret(stripped) or (" " in stripped and _short_passphrase(stripped)):
        scan.out.append(
            CredentialHit(path, SENSITIVE_KEY_KIND, _hint(SENSITIVE_KEY_KIND, stripped, note))
        )


def _short_passphrase(value: str) -> bool:
    """A few words (``correct horse battery staple``) under a credential name: a passphrase."""
    words = value.split()
    return (
        2 <= len(words) <= 8
        and all(w.isalnum() for w in words)
        and not looks_like_placeholder(value)
    )


_NEEDS_QUOTING_RE: Final = re.compile(r'[.\[\] "]')


@functools.lru_cache(maxsize=16384)
def _quoted(key: str) -> str | None:
    return f"[{json.dumps(key)}]" if not key or _NEEDS_QUOTING_RE.search(key) else None


def _join(path: str, key: str) -> str:
    quoted = _quoted(key)
    if quoted is not None:
        return path + quoted
    return f"{path}.{key}" if path else key


_MAX_DEPTH: Final = 100

#: (name field, value field) of name/value pair objects, lower-case, in order of preference
_PAIR_FIELDS: Final = (
    ("parameterkey", "parametervalue"),  # CloudFormation Parameters
    ("name", "value"),  # Kubernetes env, ECS environment, {"Name": ..., "Value": ...}
    ("key", "value"),  # AWS tags, {"Key": ..., "Value": ...}
    ("optionname", "value"),  # Elastic Beanstalk option settings
)
#: spellings of the value field of name/value pair objects (a quick test before ``_pair``)
_VALUE_FIELDS: Final = frozenset(
    {"value", "Value", "VALUE", "parameterValue", "ParameterValue", "parametervalue"}
)
_MAX_PAIR_FIELDS: Final = 8  # a name/value pair object has a few fields, not dozens
_MAX_WORD_LEN: Final = 20
_WORD_RE: Final = re.compile(rf"^[A-Za-z]{{1,{_MAX_WORD_LEN}}}$")


def _pair(value: Mapping[Any, Any]) -> tuple[str, Any] | None:
    """(the pair's name, the field holding its value) of a name/value pair object, else None."""
    fields = {str(k).lower(): k for k in value}
    for name_field, value_field in _PAIR_FIELDS:
        if name_field in fields and value_field in fields:
            name = value[fields[name_field]]
            if isinstance(name, str) and name.strip():
                return name.strip(), fields[value_field]
    return None


def _is_word_list(value: list[Any] | tuple[Any, ...]) -> bool:
    """True for a non-empty list of short plain words (permission or enum names)."""
    return bool(value) and all(isinstance(v, str) and _WORD_RE.match(v) for v in value)


def _deeper_than(value: Any, limit: int) -> bool:
    """True when ``value`` nests more than ``limit`` levels of lists/objects (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d >= limit:
                return True
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return False


def _walk_str(value: str, path: str, key: str | None, note: str, scan: _Scan, depth: int) -> None:
    s = value.strip()
    if len(s) > 1 and s[0] in "{[" and s[-1] in "}]":
        if len(value) <= _JSON_CACHE_MAX_LEN:
            hits = _json_hits(value, key, note, depth, scan.depth_left)
            if hits is None:
                _scan_string(value, path, key, note, scan)
            else:
                for rel, kind, hint in hits:
                    scan.out.append(CredentialHit(_rebase(rel, path), kind, hint))
            return
        try:
            parsed = json.loads(s)
        except (ValueError, RecursionError):
            parsed = None  # not JSON, or nested beyond the parser: scanned as text below
        if isinstance(parsed, dict | list) and not _deeper_than(parsed, _MAX_DEPTH - depth - 1):
            _walk(parsed, path, key, note, scan, depth + 1)
            return
    _scan_string(value, path, key, note, scan)


#: JSON text up to this length has its hits cached (policy documents, container definitions:
#: a state holds each twice, as input and as output, and shares documents between resources)
_JSON_CACHE_MAX_LEN: Final = 1 << 16


@functools.lru_cache(maxsize=8192)
def _json_hits(
    value: str, key: str | None, note: str, depth: int, depth_left: int
) -> tuple[tuple[str, str, str], ...] | None:
    """What :func:`_walk_str` reports for JSON text, as (path relative to :data:`_BASE`, kind,
    hint); None when the text is not JSON (or nests too deeply) and is scanned as a string."""
    try:
        parsed = json.loads(value.strip())
    except (ValueError, RecursionError):
        return None
    limit = _MAX_DEPTH - depth - 1
    # JSON nests at most as deep as it has brackets: counting them (C speed) spares the walk
    shallow = value.count("{") + value.count("[") <= limit
    if isinstance(parsed, dict | list) and (shallow or not _deeper_than(parsed, limit)):
        sub = _Scan([], depth_left)
        _walk(parsed, _BASE, key, note, sub, depth + 1)
        return tuple((h.path, h.kind, h.hint) for h in sub.out)
    return None


def _walk(value: Any, path: str, key: str | None, note: str, scan: _Scan, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    t = type(value)
    if t is str or (t is not dict and t is not list and isinstance(value, str)):
        _walk_str(value, path, key, note, scan, depth)
    elif t is dict or isinstance(value, Mapping):
        if value.get(_SIG_KEY) == PULUMI_SECRET_SIG:
            return  # a Pulumi secret envelope: encrypted (or deliberately marked secret)
        small = len(value) <= _MAX_PAIR_FIELDS
        pair = _pair(value) if small and not _VALUE_FIELDS.isdisjoint(value) else None
        ref = _reference_field(value) if small else None
        for k, v in value.items():
            ks = str(k)
            if ref is not None and k == ref:
                child_key = None  # names the secret it refers to: judged by format only
            else:
                child_key = pair[0] if pair is not None and k == pair[1] else ks
            _walk(v, _join(path, ks), child_key, note, scan, depth + 1)
    elif isinstance(value, list | tuple):
        item_key = key
        if key is not None and is_sensitive_key(key) and _is_word_list(value):
            item_key = None  # permission/enum names under a credential-ish key
        flag: str | None = None
        for i, v in enumerate(value):
            # argv: ["--token", "<value>"] judges the value under the flag's name
            _walk(v, f"{path}[{i}]", flag or item_key, note, scan, depth + 1)
            m = _FLAG_ONLY_RE.match(v) if isinstance(v, str) else None
            flag = m.group(1) if m else None


def scan_value(value: object, *, path: str = "") -> list[CredentialHit]:
    """Find credentials in ``value`` (any JSON-like structure); ``path`` prefixes hit paths."""
    scan = _Scan([])
    key = path.rsplit(".", 1)[-1] if path else None
    _walk(value, path, key, "", scan, 0)
    return scan.out


def _redact_pem_blocks(text: str) -> str:
    """Every ``BEGIN ... PRIVATE KEY`` block (to its END line, or to the end) replaced; a
    forward-only ``str.find`` loop, linear."""
    out: list[str] = []
    pos = 0
    while True:
        at = text.find("PRIVATE KEY", pos)
        if at < 0:
            out.append(text[pos:])
            return "".join(out)
        begin = text.rfind("-----BEGIN", pos, at)
        if begin < 0:
            out.append(text[pos : at + 11])
            pos = at + 11
            continue
        end = text.find("-----END", at + 11)
        if end < 0:
            stop = len(text)
        else:
            close = text.find("-----", end + 8)
            stop = len(text) if close < 0 else close + 5
        out.append(text[pos:begin])
        out.append("[redacted: private key]")
        pos = stop


def redact_text(text: str) -> str:
    """``text`` with every credential the format detectors find in it replaced by
    ``[redacted: <hint>]`` (private keys whole, from BEGIN to END). For free text such as report
    messages, where a value may have slipped in; key-name checks need structure and do not apply."""
    if len(text) < _MIN_SCAN_LEN:
        return text
    if len(text) <= _CACHE_MAX_LEN:
        # reports repeat URNs and messages (one per finding): each distinct text is judged once,
        # the detectors' prefilter included (a long alternation: most of the cost)
        return _redact_cached(text)
    return _redact_text(text)


@functools.lru_cache(maxsize=65536)
def _redact_cached(text: str) -> str:
    return _redact_text(text)


def _redact_text(text: str) -> str:
    if not _prefilter().search(text):
        return text
    original = text
    if "PRIVATE KEY" in text:
        text = _redact_pem_blocks(text)
    found: dict[str, str] = {}
    for window in _windows(text):
        # one window is the (prefiltered) text itself, unless a private key was cut out of it
        for kind, secret in _format_hits(window, prefiltered=window is original):
            if kind != "Private Key" and secret not in found:
                found[secret] = _hint(kind, secret, "")
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, f"[redacted: {found[secret]}]")
    return text


# --------------------------------------------------------------------------- BIP-39 wordlist

#: The BIP-39 English wordlist (2048 words), from bitcoin/bips ``bip-0039/english.txt`` at
#: commit 7fe0b034ec967b52a5a28276419117326df93263 (BIP-39: MIT licence); the file itself is
#: vendored as ``tests/fixtures/credentials/bip39-english.txt`` (sources and licence in
#: ``tests/fixtures/credentials/SOURCES.md``) and a test checks this copy against it.
_BIP39_ENGLISH: Final = """\
abandon ability able about above absent absorb abstract absurd abuse access accident account
accuse achieve acid acoustic acquire across act action actor actress actual adapt add addict
address adjust admit adult advance advice aerobic affair afford afraid again age agent agree
ahead aim air airport aisle alarm album alcohol alert alien all alley allow almost alone alpha
already also alter always amateur amazing among amount amused analyst anchor ancient anger
angle angry animal ankle announce annual another answer antenna antique anxiety any apart
apology appear apple approve april arch arctic area arena argue arm armed armor army around
arrange arrest arrive arrow art artefact artist artwork ask aspect assault asset assist assume
asthma athlete atom attack attend attitude attract auction audit august aunt author auto
autumn average avocado avoid awake aware away awesome awful awkward axis baby bachelor bacon
badge bag balance balcony ball bamboo banana banner bar barely bargain barrel base basic
basket battle beach bean beauty because become beef before begin behave behind believe below
belt bench benefit best betray better between beyond bicycle bid bike bind biology bird birth
bitter black blade blame blanket blast bleak bless blind blood blossom blouse blue blur blush
board boat body boil bomb bone bonus book boost border boring borrow boss bottom bounce box
boy bracket brain brand brass brave bread breeze brick bridge brief bright bring brisk
broccoli broken bronze broom brother brown brush bubble buddy budget buffalo build bulb bulk
bullet bundle bunker burden burger burst bus business busy butter buyer buzz cabbage cabin
cable cactus cage cake call calm camera camp can canal cancel candy cannon canoe canvas canyon
capable capital captain car carbon card cargo carpet carry cart case cash casino castle casual
cat catalog catch category cattle caught cause caution cave ceiling celery cement census
century cereal certain chair chalk champion change chaos chapter charge chase chat cheap check
cheese chef cherry chest chicken chief child chimney choice choose chronic chuckle chunk churn
cigar cinnamon circle citizen city civil claim clap clarify claw clay clean clerk clever click
client cliff climb clinic clip clock clog close cloth cloud clown club clump cluster clutch
coach coast coconut code coffee coil coin collect color column combine come comfort comic
common company concert conduct confirm congress connect consider control convince cook cool
copper copy coral core corn correct cost cotton couch country couple course cousin cover
coyote crack cradle craft cram crane crash crater crawl crazy cream credit creek crew cricket
crime crisp critic crop cross crouch crowd crucial cruel cruise crumble crunch crush cry
crystal cube culture cup cupboard curious current curtain curve cushion custom cute cycle dad
damage damp dance danger daring dash daughter dawn day deal debate debris decade december
decide decline decorate decrease deer defense define defy degree delay deliver demand demise
denial dentist deny depart depend deposit depth deputy derive describe desert design desk
despair destroy detail detect develop device devote diagram dial diamond diary dice diesel
diet differ digital dignity dilemma dinner dinosaur direct dirt disagree discover disease dish
dismiss disorder display distance divert divide divorce dizzy doctor document dog doll dolphin
domain donate donkey donor door dose double dove draft dragon drama drastic draw dream dress
drift drill drink drip drive drop drum dry duck dumb dune during dust dutch duty dwarf dynamic
eager eagle early earn earth easily east easy echo ecology economy edge edit educate effort
egg eight either elbow elder electric elegant element elephant elevator elite else embark
embody embrace emerge emotion employ empower empty enable enact end endless endorse enemy
energy enforce engage engine enhance enjoy enlist enough enrich enroll ensure enter entire
entry envelope episode equal equip era erase erode erosion error erupt escape essay essence
estate eternal ethics evidence evil evoke evolve exact example excess exchange excite exclude
excuse execute exercise exhaust exhibit exile exist exit exotic expand expect expire explain
expose express extend extra eye eyebrow fabric face faculty fade faint faith fall false fame
family famous fan fancy fantasy farm fashion fat fatal father fatigue fault favorite feature
february federal fee feed feel female fence festival fetch fever few fiber fiction field
figure file film filter final find fine finger finish fire firm first fiscal fish fit fitness
fix flag flame flash flat flavor flee flight flip float flock floor flower fluid flush fly
foam focus fog foil fold follow food foot force forest forget fork fortune forum forward
fossil foster found fox fragile frame frequent fresh friend fringe frog front frost frown
frozen fruit fuel fun funny furnace fury future gadget gain galaxy gallery game gap garage
garbage garden garlic garment gas gasp gate gather gauge gaze general genius genre gentle
genuine gesture ghost giant gift giggle ginger giraffe girl give glad glance glare glass glide
glimpse globe gloom glory glove glow glue goat goddess gold good goose gorilla gospel gossip
govern gown grab grace grain grant grape grass gravity great green grid grief grit grocery
group grow grunt guard guess guide guilt guitar gun gym habit hair half hammer hamster hand
happy harbor hard harsh harvest hat have hawk hazard head health heart heavy hedgehog height
hello helmet help hen hero hidden high hill hint hip hire history hobby hockey hold hole
holiday hollow home honey hood hope horn horror horse hospital host hotel hour hover hub huge
human humble humor hundred hungry hunt hurdle hurry hurt husband hybrid ice icon idea identify
idle ignore ill illegal illness image imitate immense immune impact impose improve impulse
inch include income increase index indicate indoor industry infant inflict inform inhale
inherit initial inject injury inmate inner innocent input inquiry insane insect inside inspire
install intact interest into invest invite involve iron island isolate issue item ivory jacket
jaguar jar jazz jealous jeans jelly jewel job join joke journey joy judge juice jump jungle
junior junk just kangaroo keen keep ketchup key kick kid kidney kind kingdom kiss kit kitchen
kite kitten kiwi knee knife knock know lab label labor ladder lady lake lamp language laptop
large later latin laugh laundry lava law lawn lawsuit layer lazy leader leaf learn leave
lecture left leg legal legend leisure lemon lend length lens leopard lesson letter level liar
liberty library license life lift light like limb limit link lion liquid list little live
lizard load loan lobster local lock logic lonely long loop lottery loud lounge love loyal
lucky luggage lumber lunar lunch luxury lyrics machine mad magic magnet maid mail main major
make mammal man manage mandate mango mansion manual maple marble march margin marine market
marriage mask mass master match material math matrix matter maximum maze meadow mean measure
meat mechanic medal media melody melt member memory mention menu mercy merge merit merry mesh
message metal method middle midnight milk million mimic mind minimum minor minute miracle
mirror misery miss mistake mix mixed mixture mobile model modify mom moment monitor monkey
monster month moon moral more morning mosquito mother motion motor mountain mouse move movie
much muffin mule multiply muscle museum mushroom music must mutual myself mystery myth naive
name napkin narrow nasty nation nature near neck need negative neglect neither nephew nerve
nest net network neutral never news next nice night noble noise nominee noodle normal north
nose notable note nothing notice novel now nuclear number nurse nut oak obey object oblige
obscure observe obtain obvious occur ocean october odor off offer office often oil okay old
olive olympic omit once one onion online only open opera opinion oppose option orange orbit
orchard order ordinary organ orient original orphan ostrich other outdoor outer output outside
oval oven over own owner oxygen oyster ozone pact paddle page pair palace palm panda panel
panic panther paper parade parent park parrot party pass patch path patient patrol pattern
pause pave payment peace peanut pear peasant pelican pen penalty pencil people pepper perfect
permit person pet phone photo phrase physical piano picnic picture piece pig pigeon pill pilot
pink pioneer pipe pistol pitch pizza place planet plastic plate play please pledge pluck plug
plunge poem poet point polar pole police pond pony pool popular portion position possible post
potato pottery poverty powder power practice praise predict prefer prepare present pretty
prevent price pride primary print priority prison private prize problem process produce profit
program project promote proof property prosper protect proud provide public pudding pull pulp
pulse pumpkin punch pupil puppy purchase purity purpose purse push put puzzle pyramid quality
quantum quarter question quick quit quiz quote rabbit raccoon race rack radar radio rail rain
raise rally ramp ranch random range rapid rare rate rather raven raw razor ready real reason
rebel rebuild recall receive recipe record recycle reduce reflect reform refuse region regret
regular reject relax release relief rely remain remember remind remove render renew rent
reopen repair repeat replace report require rescue resemble resist resource response result
retire retreat return reunion reveal review reward rhythm rib ribbon rice rich ride ridge
rifle right rigid ring riot ripple risk ritual rival river road roast robot robust rocket
romance roof rookie room rose rotate rough round route royal rubber rude rug rule run runway
rural sad saddle sadness safe sail salad salmon salon salt salute same sample sand satisfy
satoshi sauce sausage save say scale scan scare scatter scene scheme school science scissors
scorpion scout scrap screen script scrub sea search season seat second secret section security
seed seek segment select sell seminar senior sense sentence series service session settle
setup seven shadow shaft shallow share shed shell sheriff shield shift shine ship shiver shock
shoe shoot shop short shoulder shove shrimp shrug shuffle shy sibling sick side siege sight
sign silent silk silly silver similar simple since sing siren sister situate six size skate
sketch ski skill skin skirt skull slab slam sleep slender slice slide slight slim slogan slot
slow slush small smart smile smoke smooth snack snake snap sniff snow soap soccer social sock
soda soft solar soldier solid solution solve someone song soon sorry sort soul sound soup
source south space spare spatial spawn speak special speed spell spend sphere spice spider
spike spin spirit split spoil sponsor spoon sport spot spray spread spring spy square squeeze
squirrel stable stadium staff stage stairs stamp stand start state stay steak steel stem step
stereo stick still sting stock stomach stone stool story stove strategy street strike strong
struggle student stuff stumble style subject submit subway success such sudden suffer sugar
suggest suit summer sun sunny sunset super supply supreme sure surface surge surprise surround
survey suspect sustain swallow swamp swap swarm swear sweet swift swim swing switch sword
symbol symptom syrup system table tackle tag tail talent talk tank tape target task taste
tattoo taxi teach team tell ten tenant tennis tent term test text thank that theme then theory
there they thing this thought three thrive throw thumb thunder ticket tide tiger tilt timber
time tiny tip tired tissue title toast tobacco today toddler toe together toilet token tomato
tomorrow tone tongue tonight tool tooth top topic topple torch tornado tortoise toss total
tourist toward tower town toy track trade traffic tragic train transfer trap trash travel tray
treat tree trend trial tribe trick trigger trim trip trophy trouble truck true truly trumpet
trust truth try tube tuition tumble tuna tunnel turkey turn turtle twelve twenty twice twin
twist two type typical ugly umbrella unable unaware uncle uncover under undo unfair unfold
unhappy uniform unique unit universe unknown unlock until unusual unveil update upgrade uphold
upon upper upset urban urge usage use used useful useless usual utility vacant vacuum vague
valid valley valve van vanish vapor various vast vault vehicle velvet vendor venture venue
verb verify version very vessel veteran viable vibrant vicious victory video view village
vintage violin virtual virus visa visit visual vital vivid vocal voice void volcano volume
vote voyage wage wagon wait walk wall walnut want warfare warm warrior wash wasp waste water
wave way wealth weapon wear weasel weather web wedding weekend weird welcome west wet whale
what wheat wheel when where whip whisper wide width wife wild will win window wine wing wink
winner winter wire wisdom wise wish witness wolf woman wonder wood wool word work world worry
worth wrap wreck wrestle wrist write wrong yard year yellow you young youth zebra zero zone
zoo
"""
