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


def _report(args: argparse.Namespace) -> int:
    from lifecycle_operator.report import command  # noqa: PLC0415 - only `report` needs the client

    options = command.Options(
        namespace=args.namespace,
        all_namespaces=args.all_namespaces,
        selector=args.selector,
        names=tuple(args.names),
        junit=args.junit,
        svg=args.svg,
    )
    return command.run(options)


REPORT_EPILOG = """\
The table goes to stdout, notes and errors to stderr.
JUnit: one testsuite per LifecycleTest, one testcase per expectation per node. A failed expectation is a
failure whose text is what was seen; a run that timed out or lost its pod makes its cases errors, an
inconclusive run makes them skipped, and a test with no verdict yet, a refused spec or an unreadable
status is one skipped or error case.
SVG: the timeline of each test's latest run, as namespace_name_runN.svg in the folder.
Exit status: 0 when every reported test passed; 1 when any did not, or none matched; 2 for a usage error,
or when the tests cannot be read or the files written.
"""


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
    _add_report(sub)
    return p


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        help="report LifecycleTests from a cluster: a table, JUnit XML and timeline pictures",
        description="Read LifecycleTests from the cluster of the current kubeconfig (or in-cluster), "
        "print a summary table, and write JUnit XML and SVG pictures of each test's latest run.",
        epilog=REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = report.add_mutually_exclusive_group()
    where.add_argument(
        "-n", "--namespace", help="the namespace to read (default: the kubeconfig context's namespace)"
    )
    where.add_argument(
        "-A", "--all-namespaces", action="store_true", help="read the tests of every namespace"
    )
    report.add_argument(
        "-l",
        "--selector",
        help="only tests whose labels match this selector, as kubectl's -l (app=x,tier!=y)",
    )
    report.add_argument(
        "--junit", type=Path, metavar="FILE", help="write JUnit XML to FILE (its folder is created)"
    )
    report.add_argument(
        "--svg",
        type=Path,
        metavar="DIR|FILE",
        help="write a timeline picture of each test's latest run into the folder DIR, or to FILE "
        "(a name ending in .svg) when exactly one test is reported",
    )
    report.add_argument(
        "names", nargs="*", metavar="NAME", help="only these tests, in the one namespace (not with -A or -l)"
    )
    report.set_defaults(func=_report)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command != "run":  # `run` logs through kopf's configuration
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
