"""How the estate's contract labels are spelled as GCP labels, and read back.

Pure data (no Pulumi imports): the adapter writes with :func:`gcp_labels` / :func:`gcp_annotations`,
the policies' extractor (``policies/stores/gcp.py``) reads with :func:`contract_labels`.

GCP labels allow keys and values of at most 63 characters of lowercase letters, digits, ``_`` and
``-`` (keys start with a letter). The contract's keys (``policies/contract/vocabulary.py``) already are such
keys; its values are mapped as follows, and only these mappings are ever applied:

==========================  ===================================  ==============================
contract label              GCP label value                      read back as
==========================  ===================================  ==============================
catalog name                lower-cased (``JWT_SECRET`` ->       upper-cased (catalog names are
                            ``jwt_secret``)                      upper-case environment variable
                                                                 names: ``name_problems`` refuses
                                                                 any other)
access scopes               ``+`` -> ``_`` (``live+paper`` ->    ``_`` -> ``+`` (scope names hold
                            ``live_paper``)                      no ``_``)
every other neutral label   unchanged (already lowercase:        unchanged
                            environment, service, rotation
                            class and strategy,
                            classification, revoked, home
                            store, value source)
==========================  ===================================  ==============================

The rotation parameters (``rotation-master-secret``, ``rotation-redis-endpoint``...) hold names,
hosts and ports a label cannot carry: they are the secret's *annotations*, verbatim (annotation
values are free text). A value that cannot be spelled as a label raises :class:`LabelError`; the
backend checks the catalog's names before anything registers, so a plan never gets that far.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from policies.contract.vocabulary import (
    SCOPE_SEPARATOR,
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_CLASSIFICATION,
    TAG_ENVIRONMENT,
    TAG_HOME_STORE,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    TAG_ROTATION_STRATEGY,
    TAG_SERVICE,
    TAG_VALUE_SOURCE,
)

#: What GCP accepts as a label key and a label value.
LABEL_KEY_RE: Final = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE: Final = re.compile(r"^[a-z0-9_-]{0,63}$")
#: What replaces the scope separator inside a label value.
GCP_SCOPE_SEPARATOR: Final = "_"

#: The contract keys that are labels (everything else of ``StoredSecret.labels()`` is a rotation
#: parameter, kept as an annotation).
LABEL_KEYS: Final = (
    TAG_ENVIRONMENT,
    TAG_SERVICE,
    TAG_ROTATION_CLASS,
    TAG_ROTATION_STRATEGY,
    TAG_CLASSIFICATION,
    TAG_CATALOG_NAME,
    TAG_ACCESS_SCOPES,
    TAG_REVOKED,
    TAG_HOME_STORE,
    TAG_VALUE_SOURCE,
)


class LabelError(ValueError):
    """A contract value that no GCP label can carry exactly."""


def encode(key: str, value: str) -> str:
    """The GCP label value of one contract label."""
    if key == TAG_CATALOG_NAME:
        out = value.lower()
    elif key == TAG_ACCESS_SCOPES:
        out = value.replace(SCOPE_SEPARATOR, GCP_SCOPE_SEPARATOR)
    else:
        out = value
    if not LABEL_KEY_RE.fullmatch(key) or not LABEL_VALUE_RE.fullmatch(out):
        raise LabelError(f"{key}={value!r} cannot be a GCP label (a-z0-9_-, at most 63)")
    if decode(key, out) != value:
        raise LabelError(f"{key}={value!r} would not read back from the GCP label {out!r}")
    return out


def decode(key: str, value: str) -> str:
    """The contract value a GCP label value stands for (inverse of :func:`encode`)."""
    if key == TAG_CATALOG_NAME:
        return value.upper()
    if key == TAG_ACCESS_SCOPES:
        return value.replace(GCP_SCOPE_SEPARATOR, SCOPE_SEPARATOR)
    return value


def gcp_labels(labels: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The GCP labels of a resource: the contract labels among ``labels`` (plus ``extra``),
    encoded."""
    merged = {**labels, **extra}
    return {k: encode(k, v) for k, v in merged.items() if k in LABEL_KEYS}


def gcp_annotations(labels: Mapping[str, str]) -> dict[str, str]:
    """The rotation parameters among a secret's contract labels, verbatim."""
    return {k: v for k, v in labels.items() if k not in LABEL_KEYS}


def contract_labels(labels: Mapping[str, object]) -> dict[str, str]:
    """The contract labels a GCP resource's labels stand for (unknown keys kept as they are,
    non-string values left out)."""
    return {str(k): decode(str(k), v) for k, v in labels.items() if isinstance(v, str)}
