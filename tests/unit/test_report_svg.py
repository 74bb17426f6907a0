"""The timeline picture: well-formed SVG with a lane per subject, bars per run, marks, and the failing
expectation's lanes and text marked."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from lifecycle_operator import constants as c
from lifecycle_operator.api import TimelineEvent
from lifecycle_operator.report.lanes import Bar, bars_of
from lifecycle_operator.report.model import TestReport
from lifecycle_operator.report.svg import FAIL_COLOUR, LANE_HEIGHT, layout, tick_step, timeline_svg
from render.samples import fixture_timeline, late_hook, quiet_node, result, status

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(report: TestReport) -> ET.Element:
    return ET.fromstring(timeline_svg(report).encode())


def lanes(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-subject", ""): g for g in root.iterfind(".//svg:g[@class='lane']", NS)}


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iterfind(".//svg:text", NS)]


def test_one_lane_per_container_and_hook_in_the_pods_order() -> None:
    root = parse(late_hook())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert list(lanes(root)) == ["regular-1", "PostStart-regular-1", "regular-2"]
    for subject, lane in lanes(root).items():
        assert lane.find("svg:text", NS) is not None
        assert lane.find("svg:text", NS).text == subject  # type: ignore[union-attr]
        assert lane.find("svg:rect[@class='lane-band']", NS) is not None


def test_the_failing_expectations_lanes_are_outlined_in_red_and_its_text_listed() -> None:
    root = parse(late_hook())
    found = lanes(root)
    failing = {s for s, g in found.items() if g.find("svg:rect[@class='failing-outline']", NS) is not None}
    assert failing == {"PostStart-regular-1", "regular-2"}
    assert all(found[s].get("data-failing") == "true" for s in failing)
    assert found["regular-1"].get("data-failing") == "false"
    outline = found["regular-2"].find("svg:rect[@class='failing-outline']", NS)
    assert outline is not None
    assert outline.get("stroke") == FAIL_COLOUR
    words = texts(root)
    assert "\u2717 expectations[1]: PostStart-regular-1 exits before regular-2 starts" in words
    assert "seen: PostStart-regular-1 never logged Exiting" in words


def test_a_passed_run_marks_no_lane_and_says_so() -> None:
    root = parse(quiet_node())
    assert root.find(".//svg:rect[@class='failing-outline']", NS) is None
    assert "\u2713 all 2 expectations were met" in texts(root)


def test_bars_run_from_starting_to_exiting_and_marks_show_the_other_events() -> None:
    root = parse(quiet_node())
    hook = lanes(root)["PostStart-regular-1"]
    assert len(hook.findall("svg:g[@class='bar']", NS)) == 1
    verbs = [g.get("data-verb") for g in hook.findall("svg:g[@class='mark']", NS)]
    assert verbs == ["Started", "Delaying"]
    geo = layout(quiet_node())
    bar = hook.find("svg:g[@class='bar']/svg:rect", NS)
    assert bar is not None
    assert float(bar.get("x", "")) == pytest.approx(geo.x(100.05), abs=0.01)
    assert float(bar.get("width", "")) == pytest.approx(geo.x(101.06) - geo.x(100.05), abs=0.01)


def _events(*lines: str) -> list[TimelineEvent]:
    out = []
    for line in lines:
        uptime, subject, verb = line.split()
        out.append(
            TimelineEvent(subject=subject, verb=verb, uptime=float(uptime), time="2026-01-02T03:04:05Z")
        )
    return out


def test_bars_of_a_restarted_and_a_killed_container() -> None:
    events = _events(
        "1 a Starting", "1.1 a Started", "2 a Exiting",  # one full run
        "3 a Starting", "3.5 a Looping",  # killed without Exiting, then restarted
        "5 a Starting", "6 a Exiting",
        "7 a Starting", "7.2 a Delaying",  # still running when judged
    )  # fmt: skip
    assert bars_of(events) == [
        Bar(1, 2, exited=True),
        Bar(3, 3.5, exited=False),
        Bar(5, 6, exited=True),
        Bar(7, 7.2, exited=False),
    ]


def test_a_timeline_cut_at_its_start_still_draws_the_run_it_has() -> None:
    assert bars_of(_events("4 a Delaying", "5 a Exiting")) == [Bar(4, 5, exited=True)]
    assert bars_of(_events("5 a Exiting")) == [Bar(5, 5, exited=True)]


def test_an_unfinished_run_is_drawn_dashed() -> None:
    root = parse(late_hook())
    bar = lanes(root)["PostStart-regular-1"].find("svg:g[@class='bar']/svg:rect", NS)
    assert bar is not None
    assert bar.get("stroke-dasharray") is not None


def test_the_time_axis_counts_seconds_from_the_first_event() -> None:
    root = parse(late_hook())
    axis = [t.text for t in root.iterfind(".//svg:g[@class='axis']/svg:text", NS)]
    assert axis[0] == "0 s"
    assert "3.5 s" in axis
    assert axis[-1] == "seconds since the first event (node uptime 100 s)"
    geo = layout(late_hook())
    assert geo.origin == 100
    assert geo.span >= 103.42 - 100


@pytest.mark.parametrize(
    ("seconds", "step"), [(0.3, 0.1), (1, 0.1), (3.42, 0.5), (9, 1), (45, 5), (700, 120)]
)
def test_tick_step_puts_at_most_ten_intervals_on_the_axis(seconds: float, step: float) -> None:
    assert tick_step(seconds) == step


def test_lanes_do_not_overlap_and_keep_their_height() -> None:
    geo = layout(late_hook())
    tops = [p.top for p in geo.lanes]
    assert all(b - a > LANE_HEIGHT for a, b in itertools.pairwise(tops))


def test_without_a_spec_lanes_come_from_the_timeline_and_the_description_names_the_failing_one() -> None:
    report = late_hook()
    bare = TestReport(report.namespace, report.name, report.status, spec=None)
    root = parse(bare)
    assert list(lanes(root)) == ["regular-1", "PostStart-regular-1", "regular-2"]
    failing = {s for s, g in lanes(root).items() if g.get("data-failing") == "true"}
    assert failing == {"PostStart-regular-1", "regular-2"}


def test_a_run_without_events_says_so_and_a_test_without_a_run_still_draws() -> None:
    st = status(c.RESULT_FAILED, [result("init-1 starts", False, "init-1 never logged Started")])
    root = parse(TestReport("ns", "bad-image", st))
    assert "no events were recorded for this run" in texts(root)
    assert root.find(".//svg:g[@class='axis']", NS) is None
    never = parse(TestReport("ns", "new", status(None, run=None)))
    assert "ns/new: no run" in texts(never)


def test_text_is_escaped_and_labels_are_readable() -> None:
    st = status(
        c.RESULT_FAILED,
        [result("a <starts> & more", False, "seen \x07 " + "word " * 200)],
        timeline=fixture_timeline("silent-hook.txt"),
    )
    root = parse(TestReport("ns", "t", st))
    words = texts(root)
    assert "\u2717 expectations[0]: a <starts> & more" in words
    seen = [w for w in words if "word" in w]
    assert len(seen) > 5  # a long message wraps onto several lines
    assert all(len(line) <= 140 for line in seen)
    width = float(root.get("width", ""))
    assert width == pytest.approx(layout(TestReport("ns", "t", st)).width)
