"""The `lifecycle-operator` command: run the operator, print the CRD, validate LifecycleTest files."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from lifecycle_operator import __version__
from lifecycle_operator import constants as c
from lifecycle_operator.api import InvalidSpecError, parse_spec
from lifecycle_operator.crd import crd_path, render_crd
from lifecycle_operator.settings import help_lines


def _run(args: argparse.Namespace) -> int:
    from lifecycle_operator.serve import run  # noqa: PLC0415 - only `run` needs kopf and the client

    run(args.verbose)


def _crd(args: argparse.Namespace) -> int:
    text = render_crd()
    if args.output_dir is None:
        sys.stdout.write(text)
        return 0
    path = crd_path(Path(args.output_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def validate_document(doc: Any) -> str | None:
    """None when doc is a valid LifecycleTest, else what is wrong with it."""
    if not isinstance(doc, dict):
        return "not a mapping"
    if doc.get("apiVersion") != f"{c.GROUP}/{c.VERSION}" or doc.get("kind") != c.KIND:
        seen = f"{doc.get('apiVersion')} {doc.get('kind')}"
        return f"apiVersion/kind must be {c.GROUP}/{c.VERSION} {c.KIND}, not {seen}"
    name = (doc.get("metadata") or {}).get("name")
    if not name:
        return "metadata.name is missing"
    try:
        parse_spec(doc.get("spec"))
    except InvalidSpecError as e:
        return str(e)
    return None


def _validate(args: argparse.Namespace) -> int:
    failures = 0
    for file in args.files:
        try:
            docs = [d for d in yaml.safe_load_all(Path(file).read_text()) if d is not None]
        except (OSError, yaml.YAMLError) as e:
            print(f"{file}: cannot read: {e}")
            failures += 1
            continue
        if not docs:
            print(f"{file}: no documents")
            failures += 1
        for i, doc in enumerate(docs):
            label = f"{file}" + (f"[{i}]" if len(docs) > 1 else "")
            problem = validate_document(doc)
            if problem is None:
                print(f"{label}: ok ({doc['metadata']['name']})")
            else:
                print(f"{label}: invalid: {problem}")
                failures += 1
    return 1 if failures else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lifecycle-operator",
        description="Container-lifecycle conformance checks for the kubelet, as LifecycleTest resources.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run the operator",
        description="Run the operator against the cluster of the current kubeconfig, or in-cluster.",
        epilog="Settings, from the environment:\n  " + "\n  ".join(help_lines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("-v", "--verbose", action="store_true", help="log kopf's debug messages")
    run.set_defaults(func=_run)
    crd = sub.add_parser("crd", help="print the CustomResourceDefinition generated from the models")
    crd.add_argument("--output-dir", help="write it into this folder instead of printing it")
    crd.set_defaults(func=_crd)
    validate = sub.add_parser(
        "validate", help="check LifecycleTest files offline, with the operator's models"
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(func=_validate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "run":  # `run` logs through kopf's configuration
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
