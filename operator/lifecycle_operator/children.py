"""The I/O of everyNode tests: their per-node children created, brought up to date and deleted, and the
verdicts gathered into the parent's status. The decisions are fanout.py's; this only writes them, after
reading the parent again (a stale view may delay a change, never make a wrong one)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from lifecycle_operator.apiclient import Conflict, NotFound
from lifecycle_operator.fanout import Plan, child_body, child_spec
from lifecycle_operator.runs import Context
from lifecycle_operator.state import TestState

log = logging.getLogger(__name__)


def reconcile(namespace: str, name: str, plan: Plan, ctx: Context) -> None:
    try:
        parent = TestState.read(ctx.api.get_test(namespace, name))
    except NotFound:
        return  # its children go with it, by their owner references
    for node in plan.create:
        body = child_body(parent, node)
        try:
            ctx.api.create_test(namespace, body)
            log.info("%s/%s: node %s joined: created %s", namespace, name, node, body["metadata"]["name"])
        except Conflict:
            if not _is_child_of(parent, namespace, body["metadata"]["name"], ctx):
                log.warning(
                    "%s/%s: a LifecycleTest named %s exists and is not this test's child for node %s",
                    namespace,
                    name,
                    body["metadata"]["name"],
                    node,
                )
            # Else it is: created by an earlier pass that this one's view of the children did not show yet.
    for child in plan.update:
        with contextlib.suppress(NotFound):
            ctx.api.replace_test_spec(namespace, child.name, child_spec(parent.spec, child.node))
            log.info("%s/%s: the spec changed: updated %s", namespace, name, child.name)
    for child in plan.delete:
        ctx.api.delete_test(namespace, child.name)
        log.info(
            "%s/%s: node %s left or no longer matches: deleted %s", namespace, name, child.node, child.name
        )


def write_gathered(
    namespace: str, name: str, patch: dict[str, Any], resource_version: str | None, ctx: Context
) -> None:
    """The parent's per-node status; a Conflict means it changed meanwhile, and the scheduler looks again."""
    with contextlib.suppress(Conflict, NotFound):
        ctx.api.patch_test_status(namespace, name, patch, resource_version=resource_version)


def _is_child_of(parent: TestState, namespace: str, name: str, ctx: Context) -> bool:
    try:
        meta = ctx.api.get_test(namespace, name).get("metadata") or {}
    except NotFound:
        return False
    return any(o.get("uid") == parent.uid and o.get("controller") for o in meta.get("ownerReferences") or [])
