"""Stack files that import Pulumi ESC environments (``environment:`` in ``Pulumi.<stack>.yaml``),
evaluated offline from ``environments/<project>/<env>.yaml``: ``plan``, ``check`` and ``explain``
behave exactly as if the settings were written in the stack file; the environments are evaluated
as ESC evaluates them (imports merged in order, ``${...}`` property paths, ``fn::secret``, the pure
builtins; providers unknown and secret); every mistake names the file and the path in it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nt_secrets.escenv import Loader
from nt_secrets.lint import lint_stack_file
from nt_secrets.stackfile import SECURE_PLACEHOLDER, StackFileError, read_stack
from tests.plans import run_cli

from .conftest import ROOT

NS = "neural-trader-secrets:"
PROJECT = "neural-trader-secrets"
ENV_NAME = {"dev": "development", "prod": "production"}
FAKE_AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
FAKE_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
NOT_REAL = "not-a-real-value"  # pragma: allowlist secret
FAKE_SLACK = "xoxb-123456789012-123456789012-FAKEfakeFAKEfakeFAKEfake"  # pragma: allowlist secret


def cli(*args: str) -> Any:
    return run_cli(*args, cwd=ROOT)


def _stack_config(stack: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return config


def _write(project: Path, files: dict[str, Any], stack_file: dict[str, Any], stack: str) -> Path:
    """A project directory: the real ``Pulumi.yaml``, ``files`` (relative path -> document or
    text) and the stack file."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for rel, doc in files.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(stack_file, sort_keys=False))
    return project


def _env_file(env: str, project: str = PROJECT) -> str:
    return f"environments/{project}/{env}.yaml"


# --- the project's stacks, their settings moved into two layered environments -------------------


def _layered(stack: str, form: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stack's settings in a shared ``base`` environment imported by a per-environment one,
    with interpolations (paths, quoted keys, list indexes, text around a reference), plus the
    stack file importing them in ``form``. A few keys stay in the stack file: one overriding the
    environment's value, one object merged over the environment's."""
    config = _stack_config(stack)
    env = ENV_NAME[stack]
    aws = dict(config[NS + "aws"])
    account = str(aws["accountId"])
    base = {
        "values": {
            "org": {"regions": [config["aws:region"]], "aws": {"account.id": account}},
            "pulumiConfig": {
                # an unnamespaced key is the project's, as in a stack file
                "placement": config[NS + "placement"],
                NS + "backends": config[NS + "backends"],
                NS + "environment": "overridden-by-the-env-layer",
            },
        }
    }
    # text around a reference, a quoted key, a list index, an imported value
    aws_text = json.dumps(aws).replace(account, '${org.aws[\\"account.id\\"]}')
    aws = json.loads(aws_text)
    aws["region"] = "${org.regions[0]}"
    aws["accountId"] = "${accountId}"
    pulumi_config: dict[str, Any] = {
        k: v
        for k, v in config.items()
        if k not in (NS + "placement", NS + "backends", NS + "environment")
    }
    pulumi_config[NS + "aws"] = aws
    pulumi_config["aws:region"] = "${org.regions[0]}"
    pulumi_config[NS + "environment"] = "overridden-by-the-stack-file"
    kubernetes = dict(pulumi_config[NS + "kubernetes"])
    kubernetes["refreshMinutes"] = 999  # the stack file's own value wins, key by key
    pulumi_config[NS + "kubernetes"] = kubernetes
    layer = {
        "imports": [f"{PROJECT}/base"],
        "values": {"accountId": '${org.aws["account.id"]}', "pulumiConfig": pulumi_config},
    }
    files = {_env_file("base"): base, _env_file(env): layer}
    own = {
        NS + "environment": config[NS + "environment"],
        NS + "kubernetes": {"refreshMinutes": config[NS + "kubernetes"]["refreshMinutes"]},
    }
    name = f"{PROJECT}/{env}"
    if form == "list":
        stack_file: dict[str, Any] = {"environment": [name], "config": own}
    elif form == "inline":
        stack_file = {"environment": {"imports": [name], "values": {"unused": 1}}, "config": own}
    else:
        stack_file = {"mainEnvironment": f"{name}@latest", "config": own}
    return files, stack_file


def _plan(project: Path, stack: str) -> dict[str, Any]:
    proc = cli("plan", "--stack", stack, "--project-dir", str(project), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


@pytest.mark.parametrize(
    ("stack", "form"), [("dev", "list"), ("prod", "list"), ("dev", "inline"), ("prod", "main")]
)
def test_settings_from_two_imported_environments_plan_as_if_written_in_the_stack_file(
    tmp_path: Path, stack: str, form: str
) -> None:
    files, stack_file = _layered(stack, form)
    project = _write(tmp_path, files, stack_file, stack)
    imported, written = read_stack(project, stack), read_stack(ROOT, stack)
    assert imported.config == written.config
    assert imported.secret_keys == written.secret_keys
    assert _plan(project, stack)["resources"] == _plan(ROOT, stack)["resources"]


def test_check_and_explain_behave_as_if_the_settings_were_written(tmp_path: Path) -> None:
    files, stack_file = _layered("dev", "list")
    project = _write(tmp_path, files, stack_file, "dev")
    for args in (
        ("check", "--stack", "dev", "--format", "json"),
        ("explain", "JWT_SECRET", "--stack", "dev", "--format", "json"),
    ):
        here, there = cli(*args, "--project-dir", str(project)), cli(*args)
        assert (here.returncode, here.stdout) == (there.returncode, there.stdout), here.stderr


# --- the evaluation, as ESC evaluates -------------------------------------------------------------


def _evaluate(files: dict[str, Any], tmp_path: Path, environment: Any = None) -> Any:
    """The stack config ``read_stack`` gives for a dev stack file importing ``environment``
    (default ``[neural-trader-secrets/app]``) and no config of its own beyond the dev stack's."""
    stack_file: dict[str, Any] = {"config": _stack_config("dev")}
    stack_file["environment"] = environment or [f"{PROJECT}/app"]
    return read_stack(_write(tmp_path, files, stack_file, "dev"), "dev")


def _values(doc: dict[str, Any], tmp_path: Path, **more: Any) -> dict[str, Any]:
    """The evaluated values of ``doc`` (as ``environments/<project>/app.yaml``) as plain data,
    secrets as ``("secret", value)`` and unknowns as ``"<unknown>"``."""
    files = {_env_file("app"): doc, **{_env_file(k): v for k, v in more.items()}}
    _write(tmp_path, files, {}, "dev")
    value = Loader(tmp_path).load(f"{PROJECT}/app", "test")

    def plain(v: Any) -> Any:
        if v.unknown:
            return "<unknown>" if v.secret else "<unknown, not secret>"
        if isinstance(v.value, list):
            out: Any = [plain(x) for x in v.value]
        elif isinstance(v.value, dict):
            out = {k: plain(x) for k, x in v.value.items()}
        else:
            out = v.value
        return ("secret", out) if v.secret else out

    result: dict[str, Any] = plain(value)
    return result


EVALUATION_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # (case, app.yaml, other environments, expected values subset)
    (
        "later import wins, own values win, objects merge key by key, lists replace",
        {"imports": [f"{PROJECT}/a", f"{PROJECT}/b"], "values": {"o": {"own": 1}, "l": [3]}},
        {
            "a": {"values": {"x": "a", "o": {"a": 1, "both": "a"}, "l": [1, 2], "onlyA": True}},
            "b": {"values": {"x": "b", "o": {"b": 1, "both": "b"}}},
        },
        {
            "x": "b",
            "o": {"a": 1, "b": 1, "both": "b", "own": 1},
            "l": [3],
            "onlyA": True,
        },
    ),
    (
        "an import's references were resolved in the import, not in the importer",
        {"imports": [f"{PROJECT}/a"], "values": {"host": "mine", "copy": "${url}"}},
        {"a": {"values": {"host": "theirs", "url": "https://${host}/x"}}},
        {"url": "https://theirs/x", "copy": "https://theirs/x", "host": "mine"},
    ),
    (
        "property paths: names, list indexes, quoted keys, a whole object, text around them",
        {
            "values": {
                "a": {"b": [{"c": "deep"}, 2], "k.with.dots": "q", 'say "hi"': "quoted"},
                "path": "${a.b[0].c}",
                "quoted": '${a["k.with.dots"]}',
                "escaped": '${a["say \\"hi\\""]}',
                "number": "${a.b[1]}",
                "object": "${a.b[0]}",
                "text": "pre-${a.b[0].c}-${a.b[1]}-post",
                "dollar": "$${not.a.reference}",
                "root": '${["a"].b[1]}',
            }
        },
        {},
        {
            "path": "deep",
            "quoted": "q",
            "escaped": "quoted",
            "number": 2,
            "object": {"c": "deep"},
            "text": "pre-deep-2-post",
            "dollar": "${not.a.reference}",
            "root": 2,
        },
    ),
    (
        "a reference into an own object falls through to the imported keys",
        {"imports": [f"{PROJECT}/a"], "values": {"o": {"mine": 1}, "r": "${o.theirs}"}},
        {"a": {"values": {"o": {"theirs": "from-a"}}}},
        {"r": "from-a", "o": {"mine": 1, "theirs": "from-a"}},
    ),
    (
        "fn::secret is secret wherever it goes; a ciphertext is unknown offline",
        {
            "values": {
                "s": {"fn::secret": NOT_REAL},
                "t": "x-${s}",
                "c": {"fn::secret": {"ciphertext": "ZXNjeAAAAAE="}},
            }
        },
        {},
        {
            "s": ("secret", NOT_REAL),
            "t": ("secret", "x-" + NOT_REAL),
            "c": "<unknown>",
        },
    ),
    (
        "providers are unknown and secret offline, and so is what reads them",
        {
            "values": {
                "aws": {"login": {"fn::open::aws-login": {"oidc": {"roleArn": "arn"}}}},
                "key": "${aws.login.accessKeyId}",
                "text": "id=${aws.login.accessKeyId}",
                "long": {"fn::open": {"provider": "vault-secrets", "inputs": {"read": {}}}},
                "rot": {"fn::rotate::aws-iam": {"inputs": {}, "state": {}}},
                "ctx": "${context.pulumi.user.login}",
            }
        },
        {},
        {
            "key": "<unknown>",
            "text": "<unknown>",
            "long": "<unknown>",
            "rot": "<unknown>",
            "ctx": "<unknown, not secret>",
        },
    ),
    (
        "the builtins ESC documents",
        {
            "values": {
                "join": {"fn::join": ["-", ["a", "${x}"]]},
                "split": {"fn::split": [",", "a,b"]},
                "concat": {"fn::concat": [["a"], ["${x}"]]},
                "toJSON": {"fn::toJSON": {"b": [1, True], "a": "<&>"}},
                "fromJSON": {"fn::fromJSON": '{"k": [1, "v"]}'},
                "toString": {"fn::toString": {"hello": "world", "from": ["pulumi", "esc"]}},
                "toBase64": {"fn::toBase64": "hello, world!"},
                "fromBase64": {"fn::fromBase64": "aGVsbG8sIHdvcmxkIQ=="},
                "validated": {"fn::validate": {"schema": {"type": "string"}, "value": "${x}"}},
                "x": "y",
            }
        },
        {},
        {
            "join": "a-y",
            "split": ["a", "b"],
            "concat": ["a", "y"],
            "toJSON": '{"a":"\\u003c\\u0026\\u003e","b":[1,true]}',
            "fromJSON": {"k": [1, "v"]},
            "toString": '"from"="\\"pulumi\\",\\"esc\\"","hello"="world"',
            "toBase64": "aGVsbG8sIHdvcmxkIQ==",
            "fromBase64": "hello, world!",
            "validated": "y",
        },
    ),
    (
        "fn::final cannot be overridden by an importer",
        {"imports": [f"{PROJECT}/a"], "values": {"f": "mine"}},
        {"a": {"values": {"f": {"fn::final": "theirs"}}}},
        {"f": "theirs"},
    ),
    (
        "imports without merge, through the imports property; inline references",
        {
            "imports": [{f"{PROJECT}/a": {"merge": False}}],
            "values": {
                "via": '${imports["' + PROJECT + '/a"].k}',
                "inline": "${environments." + PROJECT + ".b.k}",
            },
        },
        {"a": {"values": {"k": "from-a"}}, "b": {"values": {"k": "from-b"}}},
        {"via": "from-a", "inline": "from-b"},
    ),
]


@pytest.mark.parametrize(
    ("doc", "others", "expected"),
    [c[1:] for c in EVALUATION_CASES],
    ids=[c[0] for c in EVALUATION_CASES],
)
def test_environments_evaluate_as_esc_evaluates_them(
    tmp_path: Path, doc: dict[str, Any], others: dict[str, Any], expected: dict[str, Any]
) -> None:
    values = _values(doc, tmp_path, **others)
    assert {k: values.get(k) for k in expected} == expected
    if "onlyA" in expected:
        assert "x" in values and "a" not in values  # no key of the import's own leaks


PULUMI_CONFIG_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str], set[str]]] = [
    # (case, pulumiConfig, the stack file's own config, expected config, expected secret keys)
    (
        "unnamespaced keys are the project's; others keep their namespace",
        {"auditTrail": True, "recoveryWindowDays": 14, "aws:skipMetadataApiCheck": "false"},
        {},
        {
            NS + "auditTrail": "true",
            NS + "recoveryWindowDays": "14",
            "aws:skipMetadataApiCheck": "false",
        },
        set(),
    ),
    (
        "the stack file's value wins, merged over the environment's object key by key",
        {
            "recoveryWindowDays": 14,
            "notifications": {"emails": ["env@example.com"], "topic": "env"},
        },
        {NS + "recoveryWindowDays": 7, NS + "notifications": {"topic": "stack"}},
        {
            NS + "recoveryWindowDays": "7",
            NS + "notifications": '{"emails": ["env@example.com"], "topic": "stack"}',
        },
        set(),
    ),
    (
        "fn::secret and provider values are secret keys the program cannot read offline",
        {
            "OPENROUTER_API_KEY": {"fn::secret": {"ciphertext": "ZXNjeAAAAAE="}},
            "SLACK_WEBHOOK_URL": "${azure.secrets.SLACK}",
            "notifications": {"token": {"fn::secret": NOT_REAL}},
        },
        {},
        {
            NS + "OPENROUTER_API_KEY": SECURE_PLACEHOLDER,
            NS + "SLACK_WEBHOOK_URL": SECURE_PLACEHOLDER,
            NS + "notifications": json.dumps({"token": SECURE_PLACEHOLDER}),
        },
        {NS + "OPENROUTER_API_KEY", NS + "SLACK_WEBHOOK_URL", NS + "notifications"},
    ),
    (
        "a stack file's secure value wins over the environment's plaintext",
        {"notifications": "from-env"},
        {NS + "notifications": {"secure": "AAABAKE="}},
        {NS + "notifications": SECURE_PLACEHOLDER},
        {NS + "notifications"},
    ),
]


@pytest.mark.parametrize(
    ("pulumi_config", "own", "expected", "secret"),
    [c[1:] for c in PULUMI_CONFIG_CASES],
    ids=[c[0] for c in PULUMI_CONFIG_CASES],
)
def test_pulumi_config_becomes_stack_config_as_pulumi_merges_it(
    tmp_path: Path,
    pulumi_config: dict[str, Any],
    own: dict[str, Any],
    expected: dict[str, str],
    secret: set[str],
) -> None:
    app = {
        "values": {
            "azure": {"secrets": {"fn::open::azure-secrets": {"login": {}, "get": {}}}},
            "pulumiConfig": pulumi_config,
        }
    }
    stack_file = {"config": {**_stack_config("dev"), **own}, "environment": [f"{PROJECT}/app"]}
    config = read_stack(_write(tmp_path, {_env_file("app"): app}, stack_file, "dev"), "dev")
    assert {k: config.config.get(k) for k in expected} == expected
    assert secret <= set(config.secret_keys)
    assert not (set(config.secret_keys) - secret - set(read_stack(ROOT, "dev").secret_keys))


@pytest.mark.parametrize(
    ("environment", "files", "expected"),
    [
        (
            ["base"],
            {"environments/default/base.yaml": {"values": {"pulumiConfig": {"auditTrail": True}}}},
            "true",
        ),
        (
            [f"{PROJECT}/app@latest"],
            {_env_file("app"): {"values": {"pulumiConfig": {"auditTrail": True}}}},
            "true",
        ),
        (
            [f"{PROJECT}/app@stable"],
            {
                _env_file("app"): {"values": {"pulumiConfig": {"auditTrail": True}}},
                _env_file("app@stable"): {"values": {"pulumiConfig": {"auditTrail": False}}},
            },
            "false",
        ),
    ],
    ids=["default project", "@latest is the working file", "a pinned revision's own copy"],
)
def test_environment_names_resolve_to_files(
    tmp_path: Path, environment: list[str], files: dict[str, Any], expected: str
) -> None:
    assert _evaluate(files, tmp_path, environment).config[NS + "auditTrail"] == expected


# --- errors: file and path named, exit 2, nothing echoed -------------------------------------------

SECRETISH = "sk-ant-api03-FAKE" + "1" * 40  # pragma: allowlist secret
ERROR_CASES: list[tuple[str, Any, dict[str, Any], str]] = [
    # (case, the stack file's environment, files, expected message: file and path)
    (
        "missing environment",
        [f"{PROJECT}/nope"],
        {},
        f"Pulumi.dev.yaml: environment[0]: environment {PROJECT}/nope not found: no "
        f"environments/{PROJECT}/nope.yaml",
    ),
    (
        "missing import",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"imports": ["x/y"]}},
        f"{_env_file('app')}: imports[0]: environment x/y not found",
    ),
    (
        "import cycle",
        [f"{PROJECT}/app"],
        {
            _env_file("app"): {"imports": [f"{PROJECT}/b"]},
            _env_file("b"): {"imports": [f"{PROJECT}/app"]},
        },
        f"{_env_file('b')}: imports[0]: cyclic import of {PROJECT}/app",
    ),
    (
        "reference cycle",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"a": "${b}", "b": "${a}"}}},
        f"{_env_file('app')}: values.a: cyclic reference to values.a",
    ),
    (
        "unknown property path",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"o": {"region": "x"}, "p": {"q": "pre-${o.regoin}"}}}},
        f"{_env_file('app')}: values.p.q: ${{o.regoin}}: unknown property 'regoin' (did you mean "
        "'region'?)",
    ),
    (
        "index out of bounds",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"l": [1], "p": "${l[3]}"}}},
        f"{_env_file('app')}: values.p: ${{l[3]}}: array index 3 out-of-bounds for array of length 1",
    ),
    (
        "bad interpolation",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"p": SECRETISH + "${a.b"}}},
        f"{_env_file('app')}: values.p: missing closing brace '}}' in interpolation",
    ),
    (
        "numeric subscript first",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"p": "${[0]}"}}},
        f"{_env_file('app')}: values.p: the first accessor must be a property name",
    ),
    (
        "bad YAML",
        [f"{PROJECT}/app"],
        {_env_file("app"): "values: {a: [" + SECRETISH},
        f"{_env_file('app')}: not valid YAML",
    ),
    (
        "not a mapping",
        [f"{PROJECT}/app"],
        {_env_file("app"): "- " + SECRETISH},
        f"{_env_file('app')}: an environment definition must be a mapping",
    ),
    (
        "two keys beside a function",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"p": {"fn::toJSON": 1, "other": SECRETISH}}}},
        f"{_env_file('app')}: values.p: illegal call to builtin function: 'fn::toJSON' must be",
    ),
    (
        "unknown function",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"p": {"fn::nope": SECRETISH}}}},
        f"{_env_file('app')}: values.p.fn::nope: 'fn::' is a reserved prefix",
    ),
    (
        "fn::secret of a reference",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"a": SECRETISH, "p": {"fn::secret": "${a}"}}}},
        f"{_env_file('app')}: values.p.fn::secret: secret values must be string literals",
    ),
    (
        "type error in a builtin",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"p": {"fn::join": ["-", [{"k": SECRETISH}]]}}}},
        f"{_env_file('app')}: values.p.fn::join[1]: fn::join values: expected a string, got an object",
    ),
    (
        "reserved key",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"imports": SECRETISH}}},
        f"{_env_file('app')}: values.imports: 'imports' is a reserved key",
    ),
    (
        "a name that leaves the directory",
        [f"{PROJECT}/../../etc"],
        {},
        "Pulumi.dev.yaml: environment[0]: not an environment name",
    ),
    (
        "a name that is a credential",
        [SECRETISH],
        {},
        "Pulumi.dev.yaml: environment[0]: not an environment name (<string, 57 chars>",
    ),
    (
        "a pinned revision without its copy",
        [f"{PROJECT}/app@7"],
        {_env_file("app"): {}},
        f"Pulumi.dev.yaml: environment[0]: environment {PROJECT}/app@7 not found: no "
        f"environments/{PROJECT}/app@7.yaml (pinned to '7'",
    ),
    (
        "environment of the wrong shape",
        SECRETISH,
        {},
        "Pulumi.dev.yaml: environment: must be a list of environment names or an environment",
    ),
    (
        "an inline definition's mistake",
        {"values": {"p": "${missing}"}},
        {},
        "Pulumi.dev.yaml: environment.values.p: ${missing}: unknown property 'missing'",
    ),
    (
        "references chained deeper than can be evaluated",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {f"a{i}": f"${{a{i + 1}}}" for i in range(3000)}}},
        "Pulumi.dev.yaml: environments: imports or references chained too deeply to evaluate",
    ),
    (
        "pulumiConfig only a provider knows",
        [f"{PROJECT}/app"],
        {_env_file("app"): {"values": {"pulumiConfig": {"fn::open::aws-secrets": {"get": {}}}}}},
        "Pulumi.dev.yaml: values.pulumiConfig is only known when ESC opens the environment",
    ),
]


@pytest.mark.parametrize(
    ("environment", "files", "expected"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_errors_name_the_file_and_path_exit_2_and_echo_nothing(
    tmp_path: Path, environment: Any, files: dict[str, Any], expected: str
) -> None:
    stack_file = {"config": _stack_config("dev"), "environment": environment}
    project = _write(tmp_path, files, stack_file, "dev")
    with pytest.raises(StackFileError) as raised:
        read_stack(project, "dev")
    assert str(raised.value).startswith(expected), str(raised.value)
    for command in ("plan", "check", "explain"):
        args = ["--stack", "dev", "--project-dir", str(project), "--format", "json"]
        proc = cli(command, *(["--all"] if command == "explain" else []), *args)
        assert proc.returncode == 2, (command, proc.stderr)
        assert proc.stdout == ""  # no partial result
        assert expected in proc.stderr and "Traceback" not in proc.stderr
        assert SECRETISH not in proc.stderr


# --- secrets: never printed; credentials in environment files linted ------------------------------


def test_provider_values_and_their_inputs_are_never_printed(tmp_path: Path) -> None:
    """A login given static keys (fn::open inputs) and a catalog value read through fn::open: the
    program gets a secret it cannot read, nothing prints either value, the lint names the file
    and path of the literal keys without them."""
    app = {
        "values": {
            "aws": {
                "login": {
                    "fn::open::aws-login": {
                        "static": {"accessKeyId": FAKE_AWS_KEY, "secretAccessKey": FAKE_AWS_SECRET}
                    }
                },
                "secrets": {
                    "fn::open::aws-secrets": {
                        "region": "us-east-1",
                        "login": "${aws.login}",
                        "get": {"ANTHROPIC_API_KEY": {"secretId": "x"}},
                    }
                },
            },
            "pulumiConfig": {"ANTHROPIC_API_KEY": "${aws.secrets.ANTHROPIC_API_KEY}"},
        }
    }
    stack_file = {"config": _stack_config("dev"), "environment": [f"{PROJECT}/app"]}
    project = _write(tmp_path, {_env_file("app"): app}, stack_file, "dev")
    config = read_stack(project, "dev")
    assert config.config[NS + "ANTHROPIC_API_KEY"] == SECURE_PLACEHOLDER
    assert NS + "ANTHROPIC_API_KEY" in config.secret_keys
    found = [v.message for v in lint_stack_file(config)]
    assert found and all(m.startswith(_env_file("app") + ": values.aws.login") for m in found)
    assert any("secretAccessKey" in m for m in found)
    for args in (
        ("plan", "--format", "json"),
        ("check", "--format", "json"),
        ("explain", "ANTHROPIC_API_KEY", "--format", "json"),
        ("explain", "--all"),
    ):
        proc = cli(*args, "--stack", "dev", "--project-dir", str(project))
        assert proc.returncode in (0, 1), proc.stderr
        out = proc.stdout + proc.stderr
        assert FAKE_AWS_KEY not in out and FAKE_AWS_SECRET not in out


LINT_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, files, stack file environment, expected message start)
    (
        "a literal credential anywhere in an imported environment",
        {
            _env_file("app"): {"imports": [f"{PROJECT}/base"]},
            _env_file("base"): {"values": {"slack": {"hooks": [FAKE_SLACK]}}},
        },
        "list",
        f"{_env_file('base')}: values.slack.hooks[0]: ",
    ),
    (
        "a literal credential in pulumiConfig",
        {_env_file("app"): {"values": {"pulumiConfig": {"aws:slackToken": FAKE_SLACK}}}},
        "list",
        f"{_env_file('app')}: values.pulumiConfig.aws:slackToken: ",
    ),
    (
        "fn::secret with a plaintext literal, whatever it looks like",
        {_env_file("app"): {"values": {"db": {"password": {"fn::secret": "x"}}}}},
        "list",
        f"{_env_file('app')}: values.db.password.fn::secret: a plaintext secret in a committed file",
    ),
    (
        "an inline definition in the stack file",
        {},
        "inline",
        "Pulumi.dev.yaml: environment.values.token: ",
    ),
]


@pytest.mark.parametrize(
    ("files", "form", "expected"), [c[1:] for c in LINT_CASES], ids=[c[0] for c in LINT_CASES]
)
def test_credentials_in_environment_files_are_found_and_never_shown(
    tmp_path: Path, files: dict[str, Any], form: str, expected: str
) -> None:
    environment: Any = [f"{PROJECT}/app"] if form == "list" else {"values": {"token": FAKE_SLACK}}
    stack_file = {"config": _stack_config("dev"), "environment": environment}
    project = _write(tmp_path, files, stack_file, "dev")
    found = [v.message for v in lint_stack_file(read_stack(project, "dev"))]
    assert len(found) == 1 and found[0].startswith(expected), found
    proc = cli("check", "--stack", "dev", "--project-dir", str(project), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert expected.split(": ")[0] in proc.stdout
    assert FAKE_SLACK not in proc.stdout + proc.stderr


def test_a_ciphertext_secret_is_not_a_violation(tmp_path: Path) -> None:
    app = {"values": {"db": {"password": {"fn::secret": {"ciphertext": "ZXNjeAAAAAE="}}}}}
    stack_file = {"config": _stack_config("dev"), "environment": [f"{PROJECT}/app"]}
    project = _write(tmp_path, {_env_file("app"): app}, stack_file, "dev")
    assert lint_stack_file(read_stack(project, "dev")) == []


# --- revocation from an environment ----------------------------------------------------------------


def test_a_revoked_list_from_an_environment_revokes(tmp_path: Path) -> None:
    app = {
        "imports": [f"{PROJECT}/base"],
        "values": {"pulumiConfig": {"revoked": "${incident.revoked}"}},
    }
    base = {"values": {"incident": {"revoked": ["JWT_SECRET"]}}}
    stack_file = {"config": _stack_config("dev"), "environment": [f"{PROJECT}/app"]}
    files = {_env_file("app"): app, _env_file("base"): base}
    from_env = _plan(_write(tmp_path / "env", files, stack_file, "dev"), "dev")["resources"]
    written = {"config": {**_stack_config("dev"), NS + "revoked": ["JWT_SECRET"]}}
    in_stack = _plan(_write(tmp_path / "stack", {}, written, "dev"), "dev")["resources"]
    baseline = _plan(ROOT, "dev")["resources"]
    assert from_env == in_stack != baseline
    changed = {
        a["urn"].rsplit("::", 1)[-1]
        for a, b in zip(baseline, from_env, strict=True)
        if a["inputs"] != b["inputs"]
    }
    assert "jwt-secret" in changed


# --- nt-secrets env esc, written to environments/ and imported back --------------------------------


def _generated(stack: str) -> dict[str, dict[str, Any]]:
    """``nt-secrets env esc --stack <stack>``: environment name -> definition."""
    proc = cli("env", "esc", "--stack", stack)
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    names = re.findall(r"^# ESC environment (\S+)$", proc.stdout, re.MULTILINE)
    assert len(docs) == len(names) >= 2
    return dict(zip(names, docs, strict=True))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_env_esc_output_imports_back(tmp_path: Path, stack: str) -> None:
    """Every generated layer written to ``environments/<name>.yaml``, the stack file importing the
    readers' and the deploy layers (each importing the base) beside its own config: the layers
    evaluate offline (each interpolated ``environmentVariables`` entry unknown and secret: a
    provider's output), their ``pulumiConfig`` resolves and reaches the stack config under the
    stack file's own values, nothing is linted, and the stack plans."""
    layers = _generated(stack)
    files = {f"environments/{name}.yaml": doc for name, doc in layers.items()}
    imported_names = [n for n in layers if not n.endswith("/base")]
    stack_file = {"environment": imported_names, "config": _stack_config(stack)}
    project = _write(tmp_path, files, stack_file, stack)
    imported, written = read_stack(project, stack), read_stack(ROOT, stack)
    env_config: dict[str, Any] = {}
    for name in imported_names:
        env_config.update(layers[name]["values"].get("pulumiConfig") or {})
    assert env_config  # the deploy layer's provider settings
    expected = {**{k: str(v) for k, v in env_config.items()}, **written.config}
    assert imported.config == expected
    assert imported.secret_keys == written.secret_keys
    loader = Loader(project)
    for name in imported_names:
        variables = loader.load(name, "test").value["environmentVariables"].value
        interpolated = {
            k for k, doc in layers[name]["values"]["environmentVariables"].items() if "${" in doc
        }
        assert interpolated and all(
            variables[k].unknown and variables[k].secret for k in interpolated
        )
    assert lint_stack_file(imported) == []
    _plan(project, stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_settings_moved_into_the_generated_environment_read_as_written(
    tmp_path: Path, stack: str
) -> None:
    """The stack's whole config moved into the generated readers' layer's ``pulumiConfig``: the
    stack file, now only ``environment:``, reads exactly as before."""
    layers = _generated(stack)
    env_name = next(n for n in layers if n.endswith("/" + ENV_NAME[stack]))
    layers[env_name]["values"]["pulumiConfig"] = _stack_config(stack)
    files = {f"environments/{name}.yaml": doc for name, doc in layers.items()}
    project = _write(tmp_path, files, {"environment": [env_name]}, stack)
    imported, written = read_stack(project, stack), read_stack(ROOT, stack)
    assert (imported.config, imported.secret_keys) == (written.config, written.secret_keys)
