"""Credential detection in arbitrary values (pure library: no pulumi / pulumi_policy imports).

``scan_value(value)`` walks nested dicts / lists / JSON-in-strings and returns one
:class:`CredentialHit` per credential found, with the ``path`` where it sits
(``environment.variables.OPENAI_API_KEY``, ``policy.Statement[0].Condition...``), the
detector name as ``kind`` and a redacted ``hint``. The secret itself is never returned,
logged or put in a message.

Detectors
---------
1. **detect-secrets plugins** (its own regex detectors, via ``analyze_string``): every plugin
   it ships *except* ``KeywordDetector`` (assignment-keyword heuristics: noisy on structured
   data; replaced by the key-name check below), ``Base64HighEntropyString`` /
   ``HexHighEntropyString`` (flag sha256/sha1/md5 asset hashes, ciphertexts, resource ids) and
   ``IPPublicDetector`` (an IP is not a credential). This covers AWS keys, Azure storage
   ``AccountKey=``, URLs with a user and password (BasicAuth), PEM private keys, Slack tokens
   and webhooks, Telegram bot tokens, legacy OpenAI keys, GitHub/GitLab/npm/PyPI/Stripe/
   SendGrid/Twilio/Mailchimp/Discord/JWT...
2. **Formats detect-secrets lacks** (``EXTRA_DETECTORS``): OpenRouter ``sk-or-v1-``, Anthropic
   ``sk-ant-``, OpenAI ``sk-proj-``/``sk-svcacct-``/``sk-admin-`` and 32+-char legacy ``sk-``,
   Google ``AIza``, E2B ``e2b_``, Sentry DSNs, URLs with an empty user (``redis://:pw@``, which
   BasicAuth misses), Azure ``SharedAccessKey=``, ``Password=``/``Pwd=`` in connection strings.
3. **Key-name-aware**: Datadog API/app keys (32/40 hex) only when the key name says
   ``datadog``/``dd_api``/``dd_app``; and ``sensitive-key``: any non-placeholder string under a
   key for which :func:`is_sensitive_key` is true (``adminPassword``, ``RABBITMQ_ERLANG_COOKIE``,
   ``primaryAccessKey``...). ``sensitive-key`` is reported only when no format detector
   already reported something at that path.

Decisions
---------
* **No free-standing entropy detection.** Entropy flags hashes, UUIDs, ciphertexts and ids;
  unknown-format secrets are caught by their key name instead (``sensitive-key``), which is
  also what finds low-entropy ones like ``Password1234!``.
* **Placeholders are not credentials** (:func:`looks_like_placeholder`): ``${VAR}``, ``$VAR``,
  ``{{ var }}``, ``<redacted>``/``<your-key>``, ``[secret]``, ``***``, values mostly made of
  ``x``/``X``/``0`` filler (``sk-xxxx...``, ``T00000000/B00000000/XXXX``, a standalone
  ``xxxx`` segment), alphabet runs (``ABCdefGHIjkl...``), PEM keys whose body is elided
  (``MHc...``), words such as
  ``changeme``/``redacted``/``placeholder``/``password``, and ``your-...``/``insert-...``.
  URL passwords go through the same test, so the documentation style ``user:password@``
  in a URL is *not* reported, ``user:${DB_PASSWORD}@`` neither. AWS's documented example
  access key id, having the real shape, *is* reported.
* **Never flagged**: whole-string ARNs and Pulumi URNs, Pulumi secret envelopes (objects whose
  signature key maps to ``PULUMI_SECRET_SIG``, next to a ``ciphertext``: already encrypted,
  skipped entirely), and values under a sensitive-looking key
  that are references (ARNs, paths, plain URLs, key-vault/SSM references, booleans).
* **Name/value pair objects**: in a mapping with a name field and a value field (Kubernetes
  container ``env`` entries ``{name, value}``, ECS ``environment`` ``{name, value}``, AWS tags
  and CloudFormation-style ``{Key, Value}`` / ``{key, value}`` / ``{Name, Value}``,
  ``{ParameterKey, ParameterValue}``, Elastic Beanstalk ``{OptionName, Value}``; field names
  matched case-insensitively, see ``_PAIR_FIELDS``), the value is judged under the pair's *name*
  as its key name (``{"name": "ALPACA_SECRET_KEY", "value": ...}`` is a credential-named key),
  so the key-name rule and the key-aware Datadog detector apply. The reported path stays the
  real one (``...containers[0].env[3].value``).
* **Word lists are settings, not credentials**: the items of a list whose items are all short
  plain words (letters only, at most ``_MAX_WORD_LEN`` characters: ``["Get", "List"]`` under
  Azure Key Vault ``permissions.secrets`` or ``secretPermissions``) are not judged by the
  key-name rule; format detectors still apply to them. A single string is never a word list
  (a low-entropy ``adminPassword`` string stays a finding).
* **JSON inside strings** is parsed and walked like structure (ECS ``containerDefinitions``);
  JSON nested too deeply to walk (past the depth limit, or past the parser's recursion limit)
  is scanned as plain text instead, so the format detectors still see it.
* Hints: for a known public prefix ``"sk-ant-… (108 chars)"``, otherwise ``"… (13 chars)"``;
  a private key's hint is its ``BEGIN ... PRIVATE KEY`` header.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import RegexBasedDetector

__all__ = [
    "EXCLUDED_PLUGINS",
    "EXTRA_DETECTORS",
    "SENSITIVE_KEY_KIND",
    "CredentialHit",
    "is_sensitive_key",
    "looks_like_placeholder",
    "redact_text",
    "scan_value",
]

SENSITIVE_KEY_KIND: Final = "sensitive-key"
# Pulumi's signature key and its "secret" type tag (not secrets; allowlisted for scanners)
PULUMI_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret

#: detect-secrets plugins deliberately not used (see module docstring).
EXCLUDED_PLUGINS: Final = frozenset(
    {"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"}
)

_B: Final = r"(?<![A-Za-z0-9_-])"  # left boundary for token-like secrets
#: name -> pattern; group 1 (if any) is the secret, else the whole match.
EXTRA_DETECTORS: Final[Mapping[str, re.Pattern[str]]] = {
    "OpenRouter API Key": re.compile(_B + r"sk-or-v1-[A-Za-z0-9]{32,}"),
    "Anthropic API Key": re.compile(_B + r"sk-ant-[A-Za-z0-9_-]{32,}"),
    "OpenAI API Key": re.compile(
        _B + r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})"
    ),
    "Google API Key": re.compile(_B + r"AIza[0-9A-Za-z_-]{35}"),
    "E2B API Key": re.compile(_B + r"e2b_[A-Za-z0-9]{32,}"),
    "Sentry DSN": re.compile(
        r"https?://([0-9a-f]{32})(?::[0-9a-f]{32})?@[A-Za-z0-9.-]+(?::\d+)?/(?:[\w.-]+/)*\d+\b"
    ),
    "URL Password": re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://:([^@\s/{}]+)@"),
    "Azure Shared Access Key": re.compile(r"SharedAccessKey=([A-Za-z0-9+/=]{43,})"),
    "Connection String Password": re.compile(
        r"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*([^;'\"\s]{4,})"
    ),
}

_KNOWN_PREFIXES: Final = (
    "sk-or-v1-",
    "sk-ant-api03-",
    "sk-ant-admin01-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-",
    "AKIA",
    "ASIA",
    "AIza",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "xoxo-",
    "ghp_",
    "gho_",
    "github_pat_",
    "glpat-",
    "npm_",
    "pypi-",
    "e2b_",
    "eyJ",
    "https://hooks.slack.com/services/",
)


@dataclass(frozen=True, slots=True)
class CredentialHit:
    """A credential found at ``path``; ``hint`` is redacted (never the value)."""

    path: str
    kind: str
    hint: str


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
)
_SENSITIVE_TOKENS: Final = frozenset({"pwd", "pass", "dsn", "auth", "sas", "bearer", "pat"})
#: a last name token that makes the value a reference or a setting, not the secret itself
_NEUTRAL_LAST_TOKENS: Final = frozenset(
    {
        "name",
        "names",
        "arn",
        "arns",
        "id",
        "ids",
        "urn",
        "path",
        "file",
        "filename",
        "length",
        "len",
        "ttl",
        "expiry",
        "expiration",
        "expires",
        "version",
        "versions",
        "stage",
        "stages",
        "policy",
        "policies",
        "role",
        "roles",
        "cidr",
        "cidrs",
        "uses",
        "period",
        "audience",
        "audiences",
        "type",
        "types",
        "enabled",
        "disabled",
        "count",
        "size",
        "rotation",
        "required",
        "min",
        "max",
        "url",
        "uri",
        "endpoint",
        "algorithm",
        "format",
        "prefix",
        "suffix",
        "hint",
        "hash",
        "authentication",
        "date",
        "time",
        "days",
        "age",
        "mode",
        "ref",
        "reference",
        "source",
        "provider",
        "manager",
        "store",
        "vault",
        "kms",
        "key",
        "keys",
        "spec",
        "usage",
        "status",
        "state",
        "description",
        "region",
    }
)


@functools.lru_cache(maxsize=4096)
def _name_tokens(name: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in _SPLIT_RE.split(_CAMEL_RE.sub(" ", name)) if t)


@functools.lru_cache(maxsize=4096)
def is_sensitive_key(name: str) -> bool:
    """True when a field/variable name says its value is a credential.

    ``password``, ``secret``, ``token``, ``api_key``, ``private_key``, ``connection_string``,
    ``dsn``, ``cookie``... in snake, kebab, camel or upper case; but not names of references or
    settings about a credential (``secret_arn``, ``kms_key_id``, ``password_length``,
    ``token_ttl``, ``secretName``, ``publicKey``).
    """
    # Namespaced names ("aws:secretKey", "proj:dbPassword", and IAM condition keys such as
    # "token.actions.githubusercontent.com:sub") are judged by their last segment: the namespace
    # is a provider, project or issuer, not what the value is.
    tokens = _name_tokens(name.rsplit(":", 1)[-1])
    if not tokens:
        return False
    last = tokens[-1]
    # "...key" endings are sensitive only through a compound ("apiKey", "accessKey").
    if last in _NEUTRAL_LAST_TOKENS and not (last in ("key", "keys") and len(tokens) > 1):
        return False
    if "public" in tokens:
        return False
    if any(t in _SENSITIVE_TOKENS for t in tokens):
        return True
    compact = "".join(tokens)
    return any(s in compact for s in _SENSITIVE_SUBSTRINGS)


# --------------------------------------------------------------------------- placeholders

_PLACEHOLDER_RES: Final = (
    re.compile(r"^\$\{[^}]*\}$"),  # ${VAR}, ${var:-default}
    re.compile(r"^\$\{\{.*\}\}$", re.S),  # ${{ secrets.API_KEY }} (GitHub Actions)
    re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$"),  # $VAR
    re.compile(r"^\{\{.*\}\}$", re.S),  # {{ template }}
    re.compile(r"^%\([^)]*\)s$"),  # %(name)s
    re.compile(r"^<[^<>]*>$"),  # <redacted>, <your-api-key>
    re.compile(r"^\[[^\[\]]*\]$"),  # [secret], [REDACTED]
    re.compile(r"^[*•.#?_-]+$"),  # ****, ...., ----
    re.compile(r"(?i)^(?:your|my|insert|enter|put|replace|add)[-_ ]"),  # your-api-key-here
)
_PLACEHOLDER_WORDS: Final = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changeit",
        "replaceme",
        "replace-me",
        "replace_me",
        "todo",
        "tbd",
        "fixme",
        "placeholder",
        "redacted",
        "removed",
        "hidden",
        "masked",
        "secret",
        "password",
        "passwd",
        "pass",
        "none",
        "null",
        "nil",
        "undefined",
        "empty",
        "n/a",
        "na",
        "dummy",
        "example",
        "sample",
        "test",
        "true",
        "false",
    }
)
_FILLER_RE: Final = re.compile(r"[xX0]{4,}")
_X_RUN_RE: Final = re.compile(r"[xX]{8,}|(?:^|[^A-Za-z0-9])[xX]{4,}(?:[^A-Za-z0-9]|$)")
_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz"
_ALPHABET_RUNS: Final = tuple(_ALPHABET[i : i + 8] for i in range(len(_ALPHABET) - 7))


_PEM_BODY_RE: Final = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----(.*?)-----END", re.S)


def _pem_is_placeholder(text: str) -> bool:
    """True for an elided documentation key: a body such as ``MHc...`` or under 16 chars."""
    m = _PEM_BODY_RE.search(text)
    if m is None:
        return False  # no END line: a truncated value, still report it
    body = m.group(1).replace("\\n", "\n")
    material = re.sub(r"[^A-Za-z0-9+/=]", "", body)
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
    if any(r.search(v) for r in _PLACEHOLDER_RES):
        return True
    if _X_RUN_RE.search(v):
        return True  # "sk-xxxxxxxx...", "organizations/xxxxx/apiKeys/xxxxx", "key_xxxx@"
    if "PRIVATE KEY" in v and _pem_is_placeholder(v):
        return True
    lowered = v.lower()
    if any(run in lowered for run in _ALPHABET_RUNS):
        return True  # "123456789:ABCdefGHIjklMNOpqrsTUVwxyz"-style documentation values
    alnum = [c for c in v if c.isalnum()]
    if alnum and _FILLER_RE.search(v):
        filler = sum(1 for c in alnum if c in "xX0")
        if filler / len(alnum) >= 0.6:
            return True
    return False


# --------------------------------------------------------------------------- detectors

_REFERENCE_RE: Final = re.compile(
    r"^(?:arn:|urn:|projects/|/|\./|~/|[A-Za-z]:\\|file:|vault:|ssm:|secretsmanager:"
    r"|@Microsoft\.KeyVault\(|https?://[^:@/\s]+(?::\d+)?(?:/[^@\s]*)?$)"
)
#: names of things rather than secrets, under a key-ish name: a secret's name/path in a secret
#: manager (``neural-trader/production/alpaca/secret-key``) and HTTP header names (``X-Api-Key``)
_NAME_LIKE_RE: Final = re.compile(
    r"^(?:[a-z0-9][a-z0-9_.-]*(?:/[a-z0-9_.-]+)+|[A-Z][a-z]*(?:-[A-Z][a-z]*)+)$"
)
#: provider enum values under a key-ish name (``customerMasterKeySpec: SYMMETRIC_DEFAULT``,
#: ``keyUsage: ENCRYPT_DECRYPT``) are settings, not secrets
_ENUM_CONSTANT_RE: Final = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_WHOLE_ID_RE: Final = re.compile(r"^(?:arn:aws[\w-]*:|urn:pulumi:)\S*$")
_HEX32_RE: Final = re.compile(r"^[0-9a-f]{32}$", re.I)
_HEX40_RE: Final = re.compile(r"^[0-9a-f]{40}$", re.I)
_TELEGRAM_CONTEXT_RE: Final = re.compile(r"(?<![\w:/-])\d{8,10}:[0-9A-Za-z_-]{35}(?![\w-])")
_MIN_SECRET_LEN: Final = 4
_MIN_SCAN_LEN: Final = 8


#: a finder yields (secret, parts): parts are the match and its groups, all placeholder-checked
Finder = Callable[[str], Iterator[tuple[str, tuple[str, ...]]]]


def _pattern_finder(patterns: Iterable[re.Pattern[str]]) -> Finder:
    """Secret = the longest group if it has 6+ chars (``BasicAuth``'s password, AWS's secret
    key), else the whole match (GitHub's group is just its ``ghp`` prefix)."""
    compiled = tuple(patterns)

    def find(text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
        for pattern in compiled:
            for m in pattern.finditer(text):
                groups = tuple(g for g in m.groups() if g)
                longest = max(groups, key=len, default="")
                yield (longest if len(longest) >= 6 else m.group(0)), (m.group(0), *groups)

    return find


def _plugin_finder(plugin: Any) -> Finder:
    def find(text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
        for secret in plugin.analyze_string(text):
            yield str(secret), (str(secret),)

    return find


@functools.cache
def _plugin_finders() -> tuple[tuple[str, Finder], ...]:
    """(kind, finder) of the detect-secrets plugins we use, instantiated once. Plain regex
    plugins are run through their own ``denylist`` with ``finditer`` (their ``analyze_string``
    uses ``findall``, which returns only capture groups); plugins with their own
    ``analyze_string`` (JWT validation) are called as they are."""
    out: list[tuple[str, Finder]] = []
    plugins: dict[str, type[Any]] = get_mapping_from_secret_type_to_class()
    for secret_type, cls in sorted(plugins.items()):
        if cls.__name__ in EXCLUDED_PLUGINS:
            continue
        plugin = cls()
        if (
            isinstance(plugin, RegexBasedDetector)
            and cls.analyze_string is RegexBasedDetector.analyze_string
        ):
            out.append((str(secret_type), _pattern_finder(plugin.denylist)))
        else:
            out.append((str(secret_type), _plugin_finder(plugin)))
    return tuple(out)


def _scoped(pattern: re.Pattern[str]) -> str:
    """The pattern's source wrapped so it keeps its own flags inside an alternation."""
    src = pattern.pattern
    flags = ""
    if src.startswith("(?i)"):
        src, flags = src[4:], "i"
    if pattern.flags & re.IGNORECASE:
        flags = "i"
    if pattern.flags & re.VERBOSE:
        flags += "x"
        src += "\n"  # a trailing verbose comment must not swallow the closing parenthesis
    return f"(?{flags}:{src})" if flags else f"(?:{src})"


@functools.cache
def _prefilter() -> re.Pattern[str] | None:
    """One alternation of every detector pattern: strings it does not match skip the
    per-detector loop (most values). None if the patterns cannot be combined."""
    patterns: list[re.Pattern[str]] = list(EXTRA_DETECTORS.values())
    plugins: dict[str, type[Any]] = get_mapping_from_secret_type_to_class()
    for cls in plugins.values():
        if cls.__name__ in EXCLUDED_PLUGINS:
            continue
        denylist = getattr(cls, "denylist", None)
        if denylist is None:
            return None  # a plugin without regexes: cannot pre-filter safely
        patterns.extend(denylist)
    try:
        return re.compile("|".join(_scoped(p) for p in patterns))
    except re.error:
        return None


@functools.cache
def _finders() -> tuple[tuple[str, Finder], ...]:
    extra = tuple((kind, _pattern_finder([p])) for kind, p in EXTRA_DETECTORS.items())
    return extra + _plugin_finders()


def _hint(kind: str, secret: str) -> str:
    if kind == "Private Key":
        header = secret.strip("- ")
        return f"-----{header}-----" if "PRIVATE KEY" in header else "private key"
    for prefix in _KNOWN_PREFIXES:
        if secret.startswith(prefix) and len(secret) > len(prefix) + 8:
            return f"{prefix}… ({len(secret)} chars)"
    return f"… ({len(secret)} chars)"


def _strip_prefix(value: str) -> str:
    for prefix in _KNOWN_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _accept(kind: str, secret: str, parts: tuple[str, ...], text: str) -> bool:
    if kind == "Private Key":
        # the match is the BEGIN header, not the key material
        return not _pem_is_placeholder(text)
    if len(secret) < _MIN_SECRET_LEN:
        return False
    if any(looks_like_placeholder(_strip_prefix(p)) for p in (secret, *parts)):
        return False
    if kind == "Telegram Bot Token":
        return bool(_TELEGRAM_CONTEXT_RE.search(text))
    return True


def _datadog_kind(key: str | None, value: str) -> str | None:
    if key is None:
        return None
    compact = "".join(_name_tokens(key))
    if "datadog" not in compact and "ddapi" not in compact and "ddapp" not in compact:
        return None
    v = value.strip()
    if _HEX32_RE.match(v):
        return "Datadog API Key"
    if _HEX40_RE.match(v):
        return "Datadog Application Key"
    return None


def _scan_string(text: str, path: str, key: str | None, out: list[CredentialHit]) -> None:
    stripped = text.strip()
    if not stripped or _WHOLE_ID_RE.match(stripped):
        return
    found: list[CredentialHit] = []
    seen: set[str] = set()
    dd = _datadog_kind(key, stripped)
    if dd and not looks_like_placeholder(stripped):
        found.append(CredentialHit(path, dd, _hint(dd, stripped)))
        seen.add(stripped)
    prefilter = _prefilter()
    if len(stripped) >= _MIN_SCAN_LEN and (prefilter is None or prefilter.search(text)):
        for kind, finder in _finders():
            for secret, parts in finder(text):
                if secret in seen or not _accept(kind, secret, parts, text):
                    continue
                seen.add(secret)
                found.append(CredentialHit(path, kind, _hint(kind, secret)))
    if (
        not found
        and key is not None
        and is_sensitive_key(key)
        and len(stripped) >= _MIN_SECRET_LEN
        and not looks_like_placeholder(stripped)
        and not _REFERENCE_RE.match(stripped)
        and not _ENUM_CONSTANT_RE.match(stripped)
        and not _NAME_LIKE_RE.match(stripped)
    ):
        found.append(CredentialHit(path, SENSITIVE_KEY_KIND, _hint(SENSITIVE_KEY_KIND, stripped)))
    out.extend(found)


def _join(path: str, key: str) -> str:
    if any(c in key for c in '.[] "') or not key:
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


_MAX_DEPTH: Final = 100

#: (name field, value field) of name/value pair objects, lower-case, in order of preference
_PAIR_FIELDS: Final = (
    ("parameterkey", "parametervalue"),  # CloudFormation Parameters
    ("name", "value"),  # Kubernetes env, ECS environment, {"Name": ..., "Value": ...}
    ("key", "value"),  # AWS tags, {"Key": ..., "Value": ...}
    ("optionname", "value"),  # Elastic Beanstalk option settings
)
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


def _walk(value: Any, path: str, key: str | None, out: list[CredentialHit], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, Mapping):
        if value.get(_SIG_KEY) == PULUMI_SECRET_SIG:
            return  # a Pulumi secret envelope: encrypted (or deliberately marked secret)
        pair = _pair(value)
        for k, v in value.items():
            ks = str(k)
            child_key = pair[0] if pair is not None and k == pair[1] else ks
            _walk(v, _join(path, ks), child_key, out, depth + 1)
    elif isinstance(value, list | tuple):
        item_key = key
        if key is not None and _is_word_list(value) and is_sensitive_key(key):
            item_key = None  # permission/enum names under a credential-ish key
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", item_key, out, depth + 1)
    elif isinstance(value, str):
        s = value.strip()
        if len(s) > 1 and s[0] in "{[" and s[-1] in "}]":
            try:
                parsed = json.loads(s)
            except (ValueError, RecursionError):
                parsed = None  # not JSON, or nested beyond the parser: scanned as text below
            if isinstance(parsed, dict | list) and not _deeper_than(parsed, _MAX_DEPTH - depth - 1):
                _walk(parsed, path, key, out, depth + 1)
                return
        _scan_string(value, path, key, out)


def scan_value(value: object, *, path: str = "") -> list[CredentialHit]:
    """Find credentials in ``value`` (any JSON-like structure); ``path`` prefixes hit paths."""
    out: list[CredentialHit] = []
    key = path.rsplit(".", 1)[-1] if path else None
    _walk(value, path, key, out, 0)
    return out


_PEM_BLOCK_RE: Final = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|$)",
    re.S,
)


def redact_text(text: str) -> str:
    """``text`` with every credential the format detectors find in it replaced by
    ``[redacted: <hint>]`` (private keys whole, from BEGIN to END). For free text such as report
    messages, where a value may have slipped in; key-name checks need structure and do not apply."""
    if len(text) < _MIN_SCAN_LEN:
        return text
    prefilter = _prefilter()
    if prefilter is not None and not prefilter.search(text):
        return text
    if "PRIVATE KEY" in text:
        text = _PEM_BLOCK_RE.sub("[redacted: private key]", text)
    found: dict[str, str] = {}
    for kind, finder in _finders():
        if kind == "Private Key":
            continue
        for secret, parts in finder(text):
            if secret not in found and _accept(kind, secret, parts, text):
                found[secret] = _hint(kind, secret)
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, f"[redacted: {found[secret]}]")
    return text
