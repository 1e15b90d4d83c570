"""Vendor the AWS managed policies AWS no longer lists: ``policies/data/aws_retired_managed_policies.json.gz``.

moto's copy of the managed policies (``aws_managed_policies.json.gz``) holds what ``ListPolicies
--scope AWS`` returns today. AWS deprecates managed policies (``AWSLambdaFullAccess``,
``AmazonEC2ContainerServiceFullAccess``...) without detaching them: roles that had them keep them,
and state files and programs still name them. Their last published documents are kept by
https://github.com/iann0036/iam-dataset (MIT): ``aws/managedpolicies/<name>.json``, one file per
policy with ``deprecated`` and ``document``. This script vendors every policy of that folder that
moto's copy does not know, as ``{"source": {...}, "policies": {name: {"statement", "deprecated"}}}``
(deterministic), so that the pack judges an attachment of one by its document, never by its name.

    .venv/bin/python scripts/build_retired_managed_policies.py --dataset /path/iam-dataset \\
        --commit <sha> --date <YYYY-MM-DD>

then update the sha256 in ``policies/data/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CURRENT = ROOT / "policies" / "data" / "aws_managed_policies.json.gz"
TARGET = ROOT / "policies" / "data" / "aws_retired_managed_policies.json.gz"


def derive(dataset: Path, commit: str, date: str) -> dict[str, Any]:
    current = set(json.loads(gzip.decompress(CURRENT.read_bytes())))
    policies: dict[str, Any] = {}
    for path in sorted((dataset / "aws" / "managedpolicies").glob("*.json")):
        entry = json.loads(path.read_text())
        name = str(entry.get("name") or path.stem).removesuffix(".json")
        statement = (entry.get("document") or {}).get("Statement")
        if name in current or not statement:
            continue
        policies[name] = {"statement": statement, "deprecated": bool(entry.get("deprecated"))}
    return {
        "source": {
            "repository": "https://github.com/iann0036/iam-dataset",
            "path": "aws/managedpolicies/",
            "commit": commit,
            "date": date,
        },
        "policies": policies,
    }


def encode(data: dict[str, Any]) -> bytes:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(raw, 9, mtime=0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="a checkout of iam-dataset")
    parser.add_argument("--commit", required=True, help="the dataset's commit (40 hex digits)")
    parser.add_argument("--date", required=True, help="the commit's date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    data = derive(args.dataset, args.commit, args.date)
    TARGET.write_bytes(encode(data))
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(data['policies'])} policies)")


if __name__ == "__main__":
    main()
