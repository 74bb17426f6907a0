"""Summarise a pytest JUnit report by tier, and fail when any test was skipped.

A skipped e2e test proves nothing, so the test command treats a skip as a failure.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    cases = ET.parse(path).getroot().iter("testcase")
    tiers: dict[str, dict[str, int]] = {}
    skipped: list[str] = []
    for case in cases:
        name = f"{case.get('classname')}.{case.get('name')}"
        tier = "e2e" if ".e2e." in f".{case.get('classname')}." or "e2e" in name else "unit"
        counts = tiers.setdefault(tier, {"passed": 0, "failed": 0, "skipped": 0})
        if case.find("skipped") is not None:
            counts["skipped"] += 1
            skipped.append(name)
        elif case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        else:
            counts["passed"] += 1
    for tier, counts in sorted(tiers.items()):
        print(f"{tier}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    total = {k: sum(c[k] for c in tiers.values()) for k in ("passed", "failed", "skipped")}
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    if "e2e" not in tiers or tiers["e2e"]["passed"] == 0:
        print("no e2e test ran: the e2e tier must run against the local cluster", file=sys.stderr)
        return 1
    if skipped:
        print("skipped tests are failures here:\n  " + "\n  ".join(skipped), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
