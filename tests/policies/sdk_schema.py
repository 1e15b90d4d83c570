"""The property shapes of the installed Pulumi provider SDKs, read from their Python types.

The SDKs ship no schema JSON; their generated classes carry it: every resource class, its
``<Name>Args`` and every nested input/output type expose properties whose getter holds the
Pulumi property name (``_pulumi_name``) and a type annotation naming the nested types (forward
references such as ``'outputs.BucketV2Versioning'``, resolved in the class's own module). This
module walks those classes so tests can check that each shape a policy reads exists in a
provider schema, in inputs or outputs.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import typing
from collections.abc import Iterator
from typing import Any

#: provider token prefix -> Python package of the installed SDK
PACKAGES = {
    "aws": "pulumi_aws",
    "gcp": "pulumi_gcp",
    "azure-native": "pulumi_azure_native",
    "kubernetes": "pulumi_kubernetes",
    "vault": "pulumi_vault",
}


def resource_classes(token: str) -> list[type] | None:
    """The resource class and its ``Args`` class of a type token, None when no installed SDK has
    it (another provider, a glob, a removed resource)."""
    if "*" in token or token.count(":") != 2:
        return None
    provider, module, name = token.split(":")
    package = PACKAGES.get(provider)
    if package is None:
        return None
    parts = module.split("/")[0].split(".")[0] if provider != "kubernetes" else module
    if provider == "kubernetes":
        group, _, version = module.rpartition("/")
        group = group.split(".")[0] if group != "core" else "core"
        path = f"{package}.{group}.{version}"
    elif parts == "index":
        path = package
    else:
        path = f"{package}.{parts}"
    mod = None
    # keywords get a trailing underscore (``lambda_``); a camel-cased module token names a
    # lower-cased Python module (``vault:appRole/...`` is ``pulumi_vault.approle``)
    for candidate in (path, path + "_", path.lower()):
        try:
            mod = importlib.import_module(candidate)
            break
        except ImportError:
            continue
    if mod is None:
        return None
    cls = getattr(mod, name, None)
    if not isinstance(cls, type):
        return None
    out = [cls]
    own = sys.modules[cls.__module__]
    # the resource's own Args (``<Name>InitArgs`` where a nested type took ``<Name>Args``)
    for candidate in (f"{name}InitArgs", f"{name}Args"):
        args = getattr(own, candidate, None)
        if isinstance(args, type) and args.__module__ == cls.__module__:
            out.append(args)
            break
    return out


def _classes_in(annotation: Any, namespace: dict[str, Any]) -> Iterator[type]:
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        if annotation in ("Output[T]", "T"):
            return
        try:
            annotation = eval(annotation, namespace)  # noqa: S307 - SDK annotations only
        except Exception:
            return
    if isinstance(annotation, type) and _properties(annotation):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _classes_in(arg, namespace)


@functools.cache
def _properties(cls: type) -> dict[str, tuple[Any, ...]]:
    """Pulumi property name -> the annotations of its getters in ``cls``."""
    out: dict[str, tuple[Any, ...]] = {}
    for _, member in inspect.getmembers(cls, lambda m: isinstance(m, property)):
        fget = member.fget
        name = getattr(fget, "_pulumi_name", None)
        if name is None:
            continue
        annotation = getattr(fget, "__annotations__", {}).get("return")
        out[name] = (*out.get(name, ()), annotation)
    return out


def child_types(cls: type, name: str) -> list[type]:
    """The nested types of property ``name`` of ``cls`` (empty for a scalar or an absent name)."""
    namespace = vars(sys.modules[cls.__module__])
    out: list[type] = []
    for annotation in _properties(cls).get(name, ()):
        for found in _classes_in(annotation, dict(namespace)):
            if found not in out:
                out.append(found)
    return out


def has_property(cls: type, name: str) -> bool:
    return name in _properties(cls)


def resolve(classes: list[type], segments: list[tuple[str, ...]]) -> dict[tuple[int, str], bool]:
    """For each (segment index, alternative name): whether it exists on a type reached by the
    path so far (through the alternatives that exist)."""
    found: dict[tuple[int, str], bool] = {}
    current = list(classes)
    for i, alternatives in enumerate(segments):
        following: list[type] = []
        for name in alternatives:
            hit = False
            for cls in current:
                if has_property(cls, name):
                    hit = True
                    following += [c for c in child_types(cls, name) if c not in following]
            found[(i, name)] = found.get((i, name), False) or hit
        current = following
    return found
