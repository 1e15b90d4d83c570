"""Build the rotation Lambda's deployment zip, deterministically.

``build_package(dest_dir)`` writes ``rotation-lambda.zip``: the ``infra.rotation`` code plus
the pure-Python drivers it needs, copied from the installed site-packages (boto3/botocore are
provided by the Lambda runtime and left out). Entries are sorted, timestamps and permissions
fixed, so two builds from the same tree are byte-identical and Pulumi's source hash only
changes when code does. No pulumi import: the program and the tests call this alike.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Final

import policies.contract

from .aws_transport import LAMBDA_HANDLER

#: Distributions bundled in the zip (pg8000's and redis' runtime requirements on Python 3.11;
#: redis needs async-timeout only below 3.11.3, older than any Lambda python3.11 runtime).
BUNDLED_DISTRIBUTIONS: Final = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six", "redis")
#: Provided by the Lambda runtime, never bundled.
RUNTIME_PROVIDED: Final = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
ZIP_NAME: Final = "rotation-lambda.zip"
HANDLER: Final = LAMBDA_HANDLER
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
_SKIP_DIST_FILES: Final = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})
_SOURCE_ROOT: Final = Path(__file__).resolve().parent
#: The policy pack's pure contract modules the rotation contract imports (the tag keys, the
#: rotation classes and their periods: defined once, in the pack).
_CONTRACT_ROOT: Final = Path(policies.contract.__file__).resolve().parent
CONTRACT_MODULES: Final = ("__init__.py", "vocabulary.py", "rotation.py")
#: Data files no code path of the handler reaches (pg8000 only uses dateutil.parser; the
#: zoneinfo tarball is 150 kB of the 1 MB budget).
EXCLUDED_FILES: Final = frozenset({"dateutil/zoneinfo/dateutil-zoneinfo.tar.gz"})


class PackagingError(RuntimeError):
    """The zip cannot be built (a dependency is missing or not pure Python)."""


def _skip(rel: str) -> bool:
    parts = rel.split("/")
    if "__pycache__" in parts or rel.endswith((".pyc", ".pyo")) or rel in EXCLUDED_FILES:
        return True
    return ".dist-info" in parts[0] and parts[-1] in _SKIP_DIST_FILES


def _handler_files() -> Iterator[tuple[str, bytes]]:
    # An empty infra/__init__.py: the real one may grow pulumi imports; the Lambda needs none.
    yield "infra/__init__.py", b""
    # Likewise an empty policies/__init__.py: of the pack, the Lambda needs its contract only.
    yield "policies/__init__.py", b""
    for module in CONTRACT_MODULES:
        yield f"policies/contract/{module}", (_CONTRACT_ROOT / module).read_bytes()
    for path in sorted(_SOURCE_ROOT.rglob("*.py")):
        rel = path.relative_to(_SOURCE_ROOT).as_posix()
        if _skip(rel) or rel == "package.py":
            continue
        yield f"infra/rotation/{rel}", path.read_bytes()


def _dependency_files() -> Iterator[tuple[str, bytes]]:
    for name in BUNDLED_DISTRIBUTIONS:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise PackagingError(f"{name} is not installed; run `make venv`") from None
        for file in dist.files or ():
            rel = file.as_posix()
            if rel.startswith("..") or "/bin/" in f"/{rel}" or _skip(rel):
                continue
            if rel.endswith((".so", ".pyd", ".dylib")):
                raise PackagingError(f"{name} ships native code ({rel}); Lambda zip must be pure")
            top = rel.split("/")[0].removesuffix(".py")
            if top in RUNTIME_PROVIDED:
                continue
            yield rel, Path(str(file.locate())).read_bytes()


def package_entries() -> dict[str, bytes]:
    """Archive name -> content of every file the zip holds."""
    entries: dict[str, bytes] = {}
    for arcname, data in (*_handler_files(), *_dependency_files()):
        if arcname in entries and entries[arcname] != data:
            raise PackagingError(f"two different files want {arcname}")
        entries[arcname] = data
    return entries


def build_package(dest_dir: Path | str) -> Path:
    """Write the deterministic Lambda zip into ``dest_dir`` and return its path."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / ZIP_NAME
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for arcname, data in sorted(package_entries().items()):
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # unix, whatever the build host
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(out)
    return out


# ---- the GCP rotation function's source archive (Cloud Functions 2nd gen) -------------------------

GCP_ZIP_NAME: Final = "rotation-gcp-function.zip"
#: The function's entry point: ``main.py`` re-exports ``infra.rotation.gcp_store.cloud_function``.
GCP_ENTRY_POINT: Final = "cloud_function"
#: What the runtime installs from ``requirements.txt`` (pinned to the versions installed here).
GCP_REQUIREMENTS: Final = ("google-cloud-secret-manager", "functions-framework")
_GCP_MAIN: Final = (
    b'"""Cloud Functions entry point: the GCP rotation (infra/rotation/gcp_store.py)."""\n\n'
    b"from infra.rotation.gcp_store import cloud_function\n\n"
    b'__all__ = ["cloud_function"]\n'
)


def gcp_package_entries() -> dict[str, bytes]:
    """Archive name -> content of the GCP function's source: the rotation code, ``main.py`` and
    a pinned ``requirements.txt`` (Cloud Build installs the libraries; nothing is bundled)."""
    entries = dict(_handler_files())
    # gcp_store reads its parameters through the pack's label codec.
    entries["policies/contract/gcp_labels.py"] = (_CONTRACT_ROOT / "gcp_labels.py").read_bytes()
    entries["main.py"] = _GCP_MAIN
    pins = []
    for name in GCP_REQUIREMENTS:
        try:
            pins.append(f"{name}=={distribution(name).version}")
        except PackageNotFoundError:
            pins.append(name)  # not installed here: the runtime resolves it
    entries["requirements.txt"] = ("\n".join(pins) + "\n").encode()
    return entries


def _write_zip(out: Path, entries: dict[str, bytes]) -> Path:
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for arcname, data in sorted(entries.items()):
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(out)
    return out


def build_gcp_package(dest_dir: Path | str) -> Path:
    """Write the deterministic GCP function source zip into ``dest_dir`` and return its path."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    return _write_zip(dest / GCP_ZIP_NAME, gcp_package_entries())


# ---- the Azure rotation function's package (Azure Functions, Flex Consumption, Python) --------

AZURE_ZIP_NAME: Final = "rotation-azure-function.zip"
#: The function (a folder of the package, Python v1 programming model): ``function.json`` binds
#: the Event Grid trigger to ``azure_function(event)`` of ``infra.rotation.azure_store``.
AZURE_FUNCTION: Final = "secret_near_expiry"
AZURE_ENTRY_POINT: Final = "azure_function"
#: Where the Python worker finds bundled libraries (a package run as it is: no remote build).
AZURE_SITE_PACKAGES: Final = ".python_packages/lib/site-packages"
#: The Key Vault client and what it needs, plus the strategies' database drivers; azure-identity
#: is not bundled (msal needs cryptography's native code): ``azure_identity.py`` logs in with the
#: app's managed identity.
AZURE_DISTRIBUTIONS: Final = (
    "azure-keyvault-secrets",
    "azure-core",
    "isodate",
    "typing-extensions",
    "requests",
    "urllib3",
    "idna",
    "certifi",
    "charset-normalizer",
    *BUNDLED_DISTRIBUTIONS,
)
_AZURE_HOST: Final = {
    "version": "2.0",
    "extensionBundle": {
        "id": "Microsoft.Azure.Functions.ExtensionBundle",
        "version": "[4.*, 5.0.0)",
    },
    "logging": {"logLevel": {"default": "Information"}},
}
_AZURE_BINDING: Final = {
    "scriptFile": "__init__.py",
    "entryPoint": "main",
    "bindings": [{"type": "eventGridTrigger", "name": "event", "direction": "in"}],
}
_AZURE_INIT: Final = (
    b'"""Event Grid trigger: the Azure rotation (infra/rotation/azure_store.py)."""\n\n'
    b"from infra.rotation.azure_store import azure_function as main\n\n"
    b'__all__ = ["main"]\n'
)


def _bundled_files(names: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    """The files of the installed distributions ``names`` under the site-packages folder; a
    compiled accelerator beside its pure-Python module (charset-normalizer's ``md.py``) is left
    out, any other native code refused."""
    for name in names:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise PackagingError(f"{name} is not installed; run `make venv`") from None
        files = {f.as_posix(): f for f in dist.files or ()}
        for rel, file in sorted(files.items()):
            if rel.startswith("..") or "/bin/" in f"/{rel}" or _skip(rel):
                continue
            if rel.endswith((".so", ".pyd", ".dylib")):
                pure = rel.split(".", 1)[0] + ".py"
                if pure in files:
                    continue
                raise PackagingError(f"{name} ships native code ({rel}); the package must be pure")
            yield f"{AZURE_SITE_PACKAGES}/{rel}", Path(str(file.locate())).read_bytes()


def azure_package_entries() -> dict[str, bytes]:
    """Archive name -> content of the Azure function's package: ``host.json``, the function's
    folder (``function.json`` and its ``__init__.py``), the rotation code and the bundled
    libraries."""
    import json

    entries = dict(_handler_files())
    entries["host.json"] = (json.dumps(_AZURE_HOST, indent=2, sort_keys=True) + "\n").encode()
    entries[f"{AZURE_FUNCTION}/function.json"] = (
        json.dumps(_AZURE_BINDING, indent=2, sort_keys=True) + "\n"
    ).encode()
    entries[f"{AZURE_FUNCTION}/__init__.py"] = _AZURE_INIT
    for arcname, data in _bundled_files(AZURE_DISTRIBUTIONS):
        if arcname in entries and entries[arcname] != data:
            raise PackagingError(f"two different files want {arcname}")
        entries[arcname] = data
    return entries


def build_azure_package(dest_dir: Path | str) -> Path:
    """Write the deterministic Azure function package into ``dest_dir`` and return its path."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    return _write_zip(dest / AZURE_ZIP_NAME, azure_package_entries())
