"""The policy pack as a publishable unit (issue 14, item 4).

* Every third-party library a module under policies/ imports is listed in policies/requirements.txt
  (what Pulumi installs into a published pack's virtualenv), pinned as in requirements.lock.
* policies/ imports neither nt_secrets/ nor infra/: the contract both sides share (vocabulary,
  rotation periods, actions, label contract, quotas, redaction, the catalog reader) lives in
  policies/contract/, and the program imports it from there, never the reverse.
* The pack runs as Pulumi runs a published pack: policies/ copied to
  ``<tmp>/<org>/<pack>/<version>/`` (so no directory called ``policies``), started the way the
  Python analyzer starts it (``python -m pulumi.policy <engine> <pack dir>``) under a meta-path
  blocker that refuses nt_secrets, every infra module, and the installed project's own
  ``policies`` package; it serves the analyzer protocol, and ``GetAnalyzerInfo`` over gRPC
  names every policy of the pack.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import grpc  # type: ignore[import-untyped]
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from policies.pack import ALL, PACK_NAME
from tests.conftest import ROOT

POLICIES = ROOT / "policies"
PROGRAM_PACKAGES = frozenset({"infra", "nt_secrets"})

#: policies/ module -> program (infra) modules it imports. Empty: the pack imports nothing of the
#: program (the contract both share lives in policies/contract/), so it installs alone. A new entry
#: is a coupling that stops ``pulumi policy publish`` from giving a pack that runs elsewhere.
PROGRAM_IMPORTS_TO_REMOVE: Mapping[str, frozenset[str]] = {}

#: Every infra module that importing the pack loads. Empty: the subprocess check below runs the
#: published pack with every infra module import-blocked.
INFRA_MODULES_LOADED: frozenset[str] = frozenset()


# ---- imports, read with ast ----------------------------------------------------------------------


def pack_modules(root: Path = POLICIES) -> dict[str, Path]:
    """Dotted name -> file of every module under policies/ (no caches, no virtualenvs)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        parts = [root.name, *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def is_module(name: str, root: Path = ROOT) -> bool:
    """A module or package of this repository (policies/, infra/, nt_secrets/)."""
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def absolute_imports(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module an import statement of ``source`` names, wherever the statement is (function
    bodies and TYPE_CHECKING blocks included): relative imports resolved against ``module``, and
    ``from a import b`` read as ``a.b`` when that is a module of this repository, else as ``a``."""
    found: set[str] = set()
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if is_module(sub) else target)
    return found


def top_level(name: str) -> str:
    return name.split(".", 1)[0]


def third_party(names: Iterable[str]) -> set[str]:
    first_party = {"policies", "__future__", *PROGRAM_PACKAGES}
    tops = {top_level(n) for n in names}
    return {t for t in tops if t not in sys.stdlib_module_names and t not in first_party}


def normalise(distribution: str) -> str:
    """PEP 503 name normalisation (``PyYAML`` -> ``pyyaml``, ``policy_sentry`` -> ``policy-sentry``)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def requirement_pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a requirements file (comments, hashes and markers ignored)."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().rstrip("\\").strip()
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)", line)
        if m:
            pins[normalise(m[1])] = m[2]
    return pins


def uncovered(
    imports: Iterable[str], requirements: Iterable[str], distributions: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """Third-party top-level imports no listed requirement provides -> their distributions."""
    listed = {normalise(r) for r in requirements}
    out: dict[str, list[str]] = {}
    for name in sorted(third_party(imports)):
        dists = sorted({normalise(d) for d in distributions.get(name, [])})
        if not dists or not listed & set(dists):
            out[name] = dists
    return out


def is_script(source: str) -> bool:
    """A module with an ``if __name__ == "__main__":`` block: a tool run by hand."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            sides = [node.test.left, *node.test.comparators]
            names = {s.id for s in sides if isinstance(s, ast.Name)}
            values = {s.value for s in sides if isinstance(s, ast.Constant)}
            if names == {"__name__"} and values == {"__main__"}:
                return True
    return False


def pack_imports() -> dict[str, set[str]]:
    """Module -> what it imports, for every module of the pack. A tool kept beside the pack (a
    script no module imports, such as policies/data/build_aws_managed.py) is not the pack: its
    imports need not be installable with it. (The pack loads some modules by discovery, e.g. the
    store extractors, so "the pack" is every module under policies/, not those reachable by
    static imports from policies/__main__.py.)"""
    modules = pack_modules()
    graph = {
        m: absolute_imports(p.read_text(encoding="utf-8"), m, is_package=p.name == "__init__.py")
        for m, p in modules.items()
    }
    imported = {n for names in graph.values() for n in names}
    return {
        m: names
        for m, names in graph.items()
        if m == "policies.__main__"
        or m in imported
        or not is_script(modules[m].read_text(encoding="utf-8"))
    }


# ---- the checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("imports", "requirements", "expected"),
    [
        ({"yaml", "os.path", "policies.framework"}, {"PyYAML"}, {}),
        ({"yaml.constructor"}, set(), {"yaml": ["pyyaml"]}),
        ({"hcl.parser"}, {"pyyaml"}, {"hcl": ["pyhcl"]}),
        ({"infra.catalog", "nt_secrets.cli", "__future__"}, set(), {}),
        ({"not_installed_anywhere"}, {"pyyaml"}, {"not_installed_anywhere": []}),
    ],
)
def test_uncovered_finds_a_missing_requirement(
    imports: set[str], requirements: set[str], expected: dict[str, list[str]]
) -> None:
    dists = {"yaml": ["PyYAML"], "hcl": ["pyhcl"]}
    assert uncovered(imports, requirements, dists) == expected


def test_relative_imports_resolve_against_the_module() -> None:
    src = (
        "from . import registry\nfrom ..lib.iam import x\nfrom .common import y\n"
        "import infra.estate\nfrom infra import settings\nfrom pulumi_policy import Policy\n"
    )
    expected = {
        "policies.gcp.registry",
        "policies.lib.iam",
        "policies.gcp.common",
        "infra.estate",
        "infra.settings",
        "pulumi_policy",
    }
    assert absolute_imports(src, "policies.gcp.iam") == expected
    # The same lines in a package's __init__ are relative to the package itself.
    in_package = absolute_imports(src, "policies.gcp", is_package=True)
    assert {"policies.gcp.registry", "policies.gcp.common", "policies.lib.iam"} <= in_package


def test_every_third_party_import_is_in_the_pack_requirements() -> None:
    pins = requirement_pins((POLICIES / "requirements.txt").read_text(encoding="utf-8"))
    imports = {name for names in pack_imports().values() for name in names}
    missing = uncovered(imports, pins, importlib.metadata.packages_distributions())
    assert missing == {}, f"add to policies/requirements.txt: {missing}"
    assert "pulumi-policy" in pins


#: Pinned though no module imports it: the SDK pulumi-policy runs on (pinned to the tested version).
PINNED_RUNTIME = frozenset({"pulumi"})


def unused_pins(
    imports: Iterable[str], requirements: Iterable[str], distributions: Mapping[str, list[str]]
) -> set[str]:
    """Listed requirements that provide none of the third-party imports (nor the pinned runtime)."""
    provided = {normalise(d) for t in third_party(imports) for d in distributions.get(t, [])}
    return {normalise(r) for r in requirements} - provided - PINNED_RUNTIME


@pytest.mark.parametrize(
    ("imports", "requirements", "expected"),
    [
        ({"yaml", "hcl.parser"}, {"PyYAML", "pyhcl", "pulumi"}, set()),
        ({"yaml"}, {"pyyaml", "pydantic"}, {"pydantic"}),
        ({"infra.catalog", "pydantic"}, {"pydantic"}, set()),
        (set(), {"pyhcl"}, {"pyhcl"}),
    ],
)
def test_unused_pins_finds_a_requirement_nothing_imports(
    imports: set[str], requirements: set[str], expected: set[str]
) -> None:
    dists = {"yaml": ["PyYAML"], "hcl": ["pyhcl"], "pydantic": ["pydantic"]}
    assert unused_pins(imports, requirements, dists) == expected


def test_pack_requirements_list_nothing_the_pack_does_not_import() -> None:
    pins = requirement_pins((POLICIES / "requirements.txt").read_text(encoding="utf-8"))
    imports = {name for names in pack_imports().values() for name in names}
    extra = unused_pins(imports, pins, importlib.metadata.packages_distributions())
    assert extra == set(), f"remove from policies/requirements.txt: {sorted(extra)}"
    assert "pydantic" not in pins  # the program's models stay out of the pack


def test_pack_requirements_are_pinned_as_in_the_lock() -> None:
    pack = requirement_pins((POLICIES / "requirements.txt").read_text(encoding="utf-8"))
    lock = requirement_pins((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    assert pack, "policies/requirements.txt pins nothing"
    differing = {n: (v, lock.get(n)) for n, v in pack.items() if lock.get(n) != v}
    assert differing == {}, "pack pin vs requirements.lock"


def test_pack_reaches_the_program_only_through_the_recorded_imports() -> None:
    found = {
        module: frozenset(n for n in names if top_level(n) in PROGRAM_PACKAGES)
        for module, names in pack_imports().items()
    }
    found = {m: names for m, names in found.items() if names}
    assert not [n for names in found.values() for n in names if top_level(n) == "nt_secrets"]
    assert found == dict(PROGRAM_IMPORTS_TO_REMOVE), (
        "a policies/ module gained or lost an import of the program: judge resources by what "
        "they grant, never through infra/ (and shrink PROGRAM_IMPORTS_TO_REMOVE when one goes)"
    )


def test_policy_pack_project_file() -> None:
    doc = yaml.safe_load((POLICIES / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    documented = {"runtime", "version", "main", "description", "author", "website", "license"}
    assert set(doc) <= documented
    assert doc["runtime"]["name"] == "python"
    assert set(doc["runtime"].get("options", {})) <= {"virtualenv"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", str(doc["version"]))
    # The virtualenv is relative to the pack directory: locally the repository's venv.
    venv = (POLICIES / doc["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == Path(sys.prefix).resolve() or (venv / "pyvenv.cfg").is_file()
    assert (POLICIES / "__main__.py").is_file() and (POLICIES / "__init__.py").is_file()


# ---- the pack, installed the way Pulumi installs a published pack -----------------------------------

_RUNNER = textwrap.dedent(
    """
    import importlib.abc, json, os, runpy, sys

    ALLOWED_INFRA = frozenset(json.loads(os.environ["NT_ALLOWED_INFRA"]))
    PACK = os.environ["NT_PACK_DIR"]

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split(".", 1)[0]
            if top == "nt_secrets" or (top == "infra" and name not in ALLOWED_INFRA):
                raise ImportError(f"blocked: the policy pack imported {name}")
            if name == "policies":
                raise ImportError("blocked: the installed project's policies package")
            if top == "infra":
                sys.stderr.write("NT-IMPORT " + name + "\\n")
            return None

    sys.meta_path.insert(0, Blocker())
    sys.argv = ["pulumi.policy", "127.0.0.1:1", PACK]
    runpy.run_module("pulumi.policy", run_name="__main__")
    """
)


def _install_like_pulumi(tmp: Path) -> Path:
    version = yaml.safe_load((POLICIES / "PulumiPolicy.yaml").read_text(encoding="utf-8"))[
        "version"
    ]
    target = tmp / "policies" / "acme" / PACK_NAME / str(version)
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return target


def test_published_pack_serves_every_policy_without_the_program(tmp_path: Path) -> None:
    pack = _install_like_pulumi(tmp_path)
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PULUMI_CONFIG"}} | {
        "NT_ALLOWED_INFRA": json.dumps(sorted(INFRA_MODULES_LOADED)),
        "NT_PACK_DIR": str(pack),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-u", str(runner)],
        cwd=pack,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port_line = proc.stdout.readline().strip()  # the analyzer announces its port, then serves
        if not port_line.isdigit():
            proc.kill()
            _out, err = proc.communicate(timeout=30)
            pytest.fail(f"the pack did not start: {port_line!r}\n{err[-4000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{port_line}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty())
    finally:
        proc.terminate()
        try:
            _out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
    assert info.name == PACK_NAME
    assert sorted(p.name for p in info.policies) == sorted(p.spec.id for p in ALL)
    loaded = {line.removeprefix("NT-IMPORT ") for line in err.splitlines() if "NT-IMPORT " in line}
    assert loaded == INFRA_MODULES_LOADED, "shrink INFRA_MODULES_LOADED with the decoupling"


def test_published_pack_fails_loudly_when_it_reaches_into_the_program(tmp_path: Path) -> None:
    """The blocker is real: a pack module that imports the program stops the pack from starting,
    and the message names the import."""
    pack = _install_like_pulumi(tmp_path)
    stack = pack / "stack.py"
    stack.write_text(
        stack.read_text(encoding="utf-8") + "\nimport infra.estate  # noqa: E402\n",
        encoding="utf-8",
    )
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "NT_ALLOWED_INFRA": json.dumps(sorted(INFRA_MODULES_LOADED)),
        "NT_PACK_DIR": str(pack),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-u", str(runner)],
        cwd=pack,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert "blocked: the policy pack imported infra" in proc.stdout + proc.stderr
    assert time.monotonic() - started < 120
