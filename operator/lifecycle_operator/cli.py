"""The `lifecycle-operator` command: run the operator, print the CRD, validate LifecycleTest files."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from lifecycle_operator import __version__
from lifecycle_operator.crd import crd_path, render_crd
from lifecycle_operator.settings import help_lines
from lifecycle_operator.validation import validate_files


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


def _validate(args: argparse.Namespace) -> int:
    return validate_files(args.files)


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
