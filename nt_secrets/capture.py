"""Offline capture of a Pulumi program through the Python SDK's own mock engine.

The program runs unchanged: ``pulumi.runtime.set_mocks`` replaces the engine's resource monitor, and
:class:`CapturingMonitor` records every ``RegisterResource`` request exactly as the engine would see
it: the serialized inputs (with the SDK's secret and unknown markers), options and dependencies. URNs
are built the way the Pulumi engine builds them (the parent's full qualified type, the root stack
left out), not the simplified way of the SDK's stock mock monitor.

What this is not: a deployment engine. Nothing is diffed, created or refreshed; outputs of resources
come from :class:`PlanMocks`, which returns plausible ARNs and ids so that documents built from them
can be read and checked.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import gc
import hashlib
import pathlib
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from unittest import mock

import pulumi
import pulumi.config
import pulumi.runtime.resource as sdk_resource
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from nt_secrets.stackfile import SECURE_PLACEHOLDER

SECRET_SIG = rpc._special_secret_sig
SIG_KEY = rpc._special_sig_key
ASSET_SIG = rpc._special_asset_sig
ARCHIVE_SIG = rpc._special_archive_sig
RESOURCE_SIG = rpc._special_resource_sig
OUTPUT_SIG = rpc._special_output_value_sig
UNKNOWN = rpc.UNKNOWN

REDACTED = "[secret]"
UNKNOWN_TEXT = "[unknown]"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
# Mocked outputs of generated secret material carry this prefix, so tests can prove that no
# generated value ever reaches a resource input without a secret marker.
CANARY_PREFIX = "nt-plan-canary-"


@dataclass
class CapturedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: list[str]
    options: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    # Inputs as registered, secrets included: never printed; for in-process checks only.
    raw_inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    # Outputs the mocks returned (ARNs, ids): for in-process checks only.
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "inputs": self.inputs,
            "secret_paths": self.secret_paths,
            "options": self.options,
            "dependencies": self.dependencies,
        }


def _num(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def shown_path(path: str) -> str:
    """A local file's path as documents show it: under the user's home directory as ``~/...``
    (a plan or a SARIF log is shared; the account name in ``/home/<user>`` is not the reader's
    business), any other path as it is."""
    try:
        home = str(pathlib.Path.home())
    except (RuntimeError, KeyError):  # no home directory to be found
        return path
    if home not in ("", "/") and path.startswith(home.rstrip("/") + "/"):
        return "~" + path[len(home.rstrip("/")) :]
    return path


def _located(value: Mapping[str, Any]) -> dict[str, Any]:
    """An asset's or archive's path, uri and hash, its path shown by :func:`shown_path`."""
    out = {k: value[k] for k in ("path", "uri", "hash") if k in value}
    if isinstance(out.get("path"), str):
        out["path"] = shown_path(out["path"])
    return out


def sanitize(value: Any, path: str, secret_paths: list[str]) -> Any:
    """Turn a serialized property value into plain JSON: secrets become ``[secret]`` (their paths
    recorded), unknowns ``[unknown]``, assets/archives/resource references a small description."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            secret_paths.append(path)
            return REDACTED
        if sig == RESOURCE_SIG:
            return {"resourceReference": value.get("urn", "")}
        if sig == ASSET_SIG:
            return {"asset": _located(value)}
        if sig == ARCHIVE_SIG:
            return {"archive": _located(value)}
        if sig == OUTPUT_SIG:
            if value.get("secret"):
                secret_paths.append(path)
                return REDACTED
            return sanitize(value.get("value", UNKNOWN), path, secret_paths)
        return {k: sanitize(v, _join(path, k), secret_paths) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [sanitize(v, _join(path, i), secret_paths) for i, v in enumerate(value)]
    if value == UNKNOWN:
        return UNKNOWN_TEXT
    return _num(value)


def unwrap(value: Any) -> Any:
    """The raw value with secret wrappers removed (for in-process checks; never printed)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return _num(value)


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The URN the Pulumi engine gives a resource: the parent's full qualified type is prefixed,
    except for the root stack."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


class PlanMocks(pulumi_mocks.Mocks):
    """Outputs for the resource types the program uses: plausible, deterministic ARNs and ids."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account = account_id

    def _suffix(self, name: str, n: int = 6) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        digest = hashlib.sha256(name.encode()).digest()
        return "".join(alphabet[b % len(alphabet)] for b in digest[:n])

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        t, name = args.typ, args.name
        region, account = self.region, self.account
        if t == "aws:kms/key:Key":
            key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{account}/{name}"))
            arn = f"arn:aws:kms:{region}:{account}:key/{key_id}"
            return key_id, {**inputs, "arn": arn, "keyId": key_id}
        if t == "aws:kms/alias:Alias":
            return inputs.get("name", name), {
                **inputs,
                "arn": f"arn:aws:kms:{region}:{account}:{inputs.get('name')}",
            }
        if t == "aws:secretsmanager/secret:Secret":
            secret_name = inputs.get("name", name)
            arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_name}-{self._suffix(secret_name)}"
            return arn, {**inputs, "arn": arn}
        if t == "aws:iam/role:Role":
            role_name = inputs.get("name", name)
            return role_name, {**inputs, "arn": f"arn:aws:iam::{account}:role/{role_name}"}
        if t == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket", name)
            return bucket, {**inputs, "arn": f"arn:aws:s3:::{bucket}", "bucket": bucket}
        if t == "aws:cloudtrail/trail:Trail":
            trail = inputs.get("name", name)
            return trail, {**inputs, "arn": f"arn:aws:cloudtrail:{region}:{account}:trail/{trail}"}
        if t == "aws:lambda/function:Function":
            fn = inputs.get("name", name)
            return fn, {**inputs, "arn": f"arn:aws:lambda:{region}:{account}:function:{fn}"}
        if t == "aws:sns/topic:Topic":
            topic = inputs.get("name", name)
            return topic, {**inputs, "arn": f"arn:aws:sns:{region}:{account}:{topic}"}
        if t == "random:index/randomBytes:RandomBytes":
            canary = CANARY_PREFIX + self._suffix(name, 12)
            return f"{name}-id", {**inputs, "hex": canary, "base64": canary}
        if t == "random:index/randomPassword:RandomPassword":
            canary = CANARY_PREFIX + self._suffix(name, 12)
            return f"{name}-id", {**inputs, "result": canary, "bcryptHash": canary}
        if t == "azure-native:web:WebApp":
            # Its identity input lists the user-assigned identities; the output maps each to
            # its principal (the SDK refuses an echoed list).
            identity = inputs.get("identity")
            if isinstance(identity, dict) and isinstance(
                identity.get("userAssignedIdentities"), list
            ):
                ids = identity["userAssignedIdentities"]
                identity = {**identity, "userAssignedIdentities": {str(i): {} for i in ids}}
                return f"{name}-id", {**inputs, "identity": identity}
        return f"{name}-id", inputs

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":  # noqa: S105
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:root",
                "userId": "AIDAPLAN",
            }, None
        if args.token == "aws:index/getRegion:getRegion":  # noqa: S105
            return {"name": self.region, "region": self.region}, None
        return {}, None


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that records every registration as the engine would receive it."""

    def __init__(self, mocks: pulumi_mocks.Mocks, stack: str, project: str) -> None:
        super().__init__(mocks)
        self.stack = stack
        self.project = project
        self.captured: list[CapturedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return engine_urn(self.stack, self.project, parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        raw = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        secret_paths: list[str] = []
        inputs = {k: sanitize(v, k, secret_paths) for k, v in sorted(raw.items())}
        options: dict[str, Any] = {
            "protect": bool(request.protect),
            "retainOnDelete": bool(request.retainOnDelete),
            "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
            "provider": request.provider or None,
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
            "ignoreChanges": sorted(request.ignoreChanges),
            "replaceOnChanges": sorted(request.replaceOnChanges),
        }
        if request.importId:
            options["import"] = request.importId
        if request.version:
            options["version"] = request.version
        prop_deps = {
            k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items()) if v.urns
        }
        captured = CapturedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=inputs,
            secret_paths=sorted(secret_paths),
            options=options,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies=prop_deps,
            raw_inputs={k: unwrap(v) for k, v in raw.items()},
        )
        self.captured.append(captured)
        if request.type == ROOT_STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        inputs_obj = rpc.deserialize_properties(request.object)
        id_, state = self.mocks.new_resource(
            pulumi_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs_obj,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        captured.outputs = {"id": id_, **state}
        obj_proto = _complete(lambda: rpc.serialize_properties(state, {}))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_ or "", state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj_proto)


_T = TypeVar("_T")


def _complete(make: Callable[[], Awaitable[_T]]) -> _T:
    """The result of ``make()``, a coroutine that never waits when it serializes the plain values a
    mock returns: driven to its end here, without pumping the event loop once per resource. Should
    it wait after all, it is dropped and a fresh one is awaited the SDK's way (``_sync_await``)."""
    coro = make().__await__()
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    return _sync_await(make())


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """The event loop's default executor during a capture: the SDK hands every monitor call
    (``RegisterResource``, ``Invoke``…) to ``run_in_executor`` because a real monitor is a gRPC
    server across a socket; the capturing monitor answers in microseconds, so the call runs on
    the loop's own thread instead of a pool thread (no thread hand-off, no second event loop).
    The SDK's code path, the requests and the answers are unchanged. (A ThreadPoolExecutor
    because asyncio accepts no other as default executor; it never starts a thread.)"""

    def submit(
        self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[_T]:
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine
            future.set_exception(exc)
        return future


@functools.lru_cache(maxsize=4096)
def _file_uri(filename: str) -> str | None:
    try:
        return pathlib.Path(filename).as_uri()
    except BaseException:  # the SDK's rule: no position, not a failure
        return None


def _stack_trace() -> source_pb2.StackTrace:
    """``pulumi.runtime.resource._get_stack_trace`` without its per-frame costs: the same frames
    (up to the concrete resource's constructor, its caller first) with the same positions, but
    source lines are not read and each file's URI is computed once, not once per frame."""
    stack = traceback.StackSummary.extract(traceback.walk_stack(None), lookup_lines=False)
    stack.reverse()
    n = 0
    i = len(stack) - 1
    while i >= 0:
        if stack[i].name == "__init__":
            n += 1
            if n == 3:
                break
        i -= 1
    if i < 1:
        return source_pb2.StackTrace()
    frames = []
    for frame in reversed(stack[:i]):
        line = frame.lineno
        uri = _file_uri(frame.filename) if frame.filename and line is not None else None
        pos = None if uri is None or line is None else source_pb2.SourcePosition(uri=uri, line=line)
        frames.append(source_pb2.StackFrame(pc=pos))
    return source_pb2.StackTrace(frames=frames)


def _unknown_secret() -> pulumi.Output[Any]:
    loop = asyncio.get_event_loop()
    futures = [loop.create_future() for _ in range(3)]
    futures[0].set_result(None)
    futures[1].set_result(False)
    futures[2].set_result(True)
    return pulumi.Output(set(), futures[0], futures[1], futures[2])


class _ConfigOutput:
    """Stands in for ``Output`` inside ``pulumi.config`` during a capture: a ``secure:`` value the
    offline run cannot decrypt becomes an unknown secret, as at a preview that cannot read it."""

    @staticmethod
    def secret(value: Any) -> pulumi.Output[Any]:
        if value == SECURE_PLACEHOLDER or (isinstance(value, str) and SECURE_PLACEHOLDER in value):
            return _unknown_secret()
        return pulumi.Output.secret(value)


@contextmanager
def _secure_values_unknown() -> Iterator[None]:
    with mock.patch.object(pulumi.config, "Output", _ConfigOutput):
        yield


@dataclass
class Capture:
    stack: str
    project: str
    resources: list[CapturedResource]
    exports: dict[str, Any] = field(default_factory=dict)


def capture_program(
    program: Callable[[], None],
    *,
    stack: str,
    project: str,
    config: Mapping[str, str] | None = None,
    secret_keys: tuple[str, ...] | list[str] = (),
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> Capture:
    """Run ``program`` against the mock engine with the given config and return what it registered,
    sorted by URN (so the result does not depend on registration order).

    Exceptions raised by the program propagate unchanged.
    """

    def run() -> Capture:
        monitor = CapturingMonitor(PlanMocks(region, account_id), stack, project)
        pulumi.runtime.set_mocks(
            monitor.mocks, project=project, stack=stack, preview=True, monitor=monitor
        )
        pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
        # The loop the SDK runs the program on (``_sync_await``'s), with the inline executor for
        # the duration of the capture; whatever executor it had before is put back.
        loop: asyncio.AbstractEventLoop = _ensure_event_loop()  # type: ignore[no-untyped-call]
        before = getattr(loop, "_default_executor", None)
        loop.set_default_executor(_InlineExecutor())
        try:
            with (
                _secure_values_unknown(),
                mock.patch.object(sdk_resource, "_get_stack_trace", _stack_trace),
            ):
                _sync_await(run_pulumi_func(program))
        finally:
            loop._default_executor = before  # type: ignore[attr-defined]
        resources = sorted(monitor.captured, key=lambda r: r.urn)
        return Capture(stack=stack, project=project, resources=resources)

    # A fresh context per capture: the SDK keeps its root stack, config and settings in context
    # variables, so captures of different stacks in one process never see each other.
    # The cyclic garbage collector is off meanwhile: a capture allocates hundreds of thousands of
    # futures, outputs and messages that live until it ends, and the collector's passes over them
    # (and over the provider SDKs' classes) cost more than the capture itself; it is back on, as
    # it was, when the capture ends (callers that run many captures, such as the tests, gain too).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return contextvars.Context().run(run)
    finally:
        if collecting:
            gc.enable()
