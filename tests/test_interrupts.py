"""Ctrl-C at any moment of a real ``nt-secrets plan`` (issue 23): exit 130 at once, one line on
stderr and no traceback, and nothing half-written (the report redirected to a file is whole or
empty; the build directory holds no temporary left-over and no zip without its stamp).

Each run is the real command in a fresh interpreter, interrupted after a delay that lands in a
different phase: interpreter start-up, the imports of the SDK and of the provider packages (where a
half-imported module once turned into an AttributeError traceback), the program, the Lambda
archive's build, the policies and the report. A run that ended before the signal is not counted.
How fast the exit is, is measured and printed; a run that has not ended long after its signal (a
hang until a second Ctrl-C) fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from nt_secrets import cli

from .conftest import ROOT

#: Seconds after start: dense where the SDK and the providers are imported (0.5-1.5 s on an idle
#: machine), then through the program, the policies and the report. Not earlier: the first
#: ~0.15 s are the interpreter's own start-up (site, the editable install's finder), before any
#: line of the program runs, where Python's own KeyboardInterrupt is all there is.
DELAYS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6, 1.8, 2.1, 2.5, 3.0, 3.6,
          4.3, 5.2, 6.2]  # fmt: skip
#: Far beyond "at once" on a loaded machine; a run still going then is a hang.
HANG_S = 10.0


def _nt_secrets() -> list[str]:
    script = Path(sys.executable).with_name("nt-secrets")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nt_secrets.cli"]


def _whole_or_nothing(report: Path, fmt: str) -> None:
    text = report.read_text(encoding="utf-8")
    if not text:
        return
    if fmt == "json":
        doc = json.loads(text)  # a half-written document does not parse
        assert doc["summary"]["resources"] == len(doc["resources"])
    else:
        assert text.endswith("\n") and "Nothing was deployed" in text


def _build_dir_is_consistent(build: Path) -> None:
    rotation = build / "rotation"
    names = sorted(p.name for p in rotation.iterdir()) if rotation.is_dir() else []
    built = {"rotation-lambda.zip", "rotation-gcp-function.zip", "rotation-azure-function.zip"}
    assert set(names) <= built | {f"{b}.sha256" for b in built}, names  # no .build-* left
    if "rotation-lambda.zip" in names:
        with zipfile.ZipFile(rotation / "rotation-lambda.zip") as zf:
            assert zf.testzip() is None


def test_ctrl_c_at_any_moment_of_a_plan_exits_130_at_once(tmp_path: Path) -> None:
    latencies: list[tuple[float, float]] = []
    for i, delay in enumerate(DELAYS):
        fmt = "text" if i % 4 == 3 else "json"
        build, report = tmp_path / f"build-{i}", tmp_path / f"report-{i}"
        env = {**os.environ, "NT_SECRETS_BUILD_DIR": str(build), "PYTHONUNBUFFERED": ""}
        with report.open("wb") as out:
            proc = subprocess.Popen(
                [*_nt_secrets(), "plan", "--stack", "dev", "--format", fmt],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.PIPE,
            )
            time.sleep(delay)
            if proc.poll() is not None:  # ended before the signal: nothing to learn
                proc.communicate()
                continue
            sent = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            try:
                _, err_bytes = proc.communicate(timeout=HANG_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise AssertionError(
                    f"interrupted at {delay} s, still running {HANG_S} s later"
                ) from None
        latencies.append((delay, time.perf_counter() - sent))
        err = err_bytes.decode("utf-8", "replace")
        where = f"interrupted at {delay} s: exit {proc.returncode}, stderr {err[-600:]!r}"
        if proc.returncode == -signal.SIGINT:  # before the interpreter handles SIGINT at all:
            assert err == "", where  # killed by it, which a shell reports as 130 too
            continue
        if proc.returncode == 0:  # the plan finished between the poll and the signal:
            text = report.read_text(encoding="utf-8")
            assert text, where
            _whole_or_nothing(report, fmt)  # then the whole report is there
            continue
        assert proc.returncode == cli.EXIT_INTERRUPTED, where
        assert "Traceback" not in err and "Error" not in err, where
        assert err.strip().splitlines()[-1] == "nt-secrets: interrupted", where
        _whole_or_nothing(report, fmt)
        _build_dir_is_consistent(build)
    assert len(latencies) >= len(DELAYS) // 2, "too few runs were still going at their signal"
    print(
        "exit after Ctrl-C (delay s -> s): "
        + ", ".join(f"{d:.2f}->{s:.2f}" for d, s in latencies)
        + f"; max {max(s for _, s in latencies):.2f} s"
    )


def test_an_interrupt_inside_a_whole_section_waits_for_its_end() -> None:
    from infra import interrupts

    stops: list[str] = []
    before = signal.getsignal(signal.SIGINT)
    try:
        interrupts.install(lambda: stops.append("stop"))
        with interrupts.whole():
            with interrupts.whole():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler has run by now
                stops.append("inner end")
            stops.append("outer end")
        assert stops == ["inner end", "outer end", "stop"]
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert stops[-1] == "stop" and len(stops) == 4  # outside a section: at once
    finally:
        signal.signal(signal.SIGINT, before)
