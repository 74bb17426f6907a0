"""A picture of one run's timeline, as SVG text (pure): a person sees at a glance what ran, in which
order, and what the failing expectation is about.

One lane per container and hook; a bar per run of it; marks for its other events; a time axis in
seconds since the run's first event (from the node's uptime, which orders the events); the lanes of the
subjects of a failed expectation outlined in red, and every failed expectation written under the chart.
The geometry is computed first (`layout`), so tests can find each lane where it was drawn.
"""

from __future__ import annotations

import math
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Final

from lifecycle_operator.instrumentation import Verb
from lifecycle_operator.report.lanes import Bar, Lane, Mark, lanes
from lifecycle_operator.report.markup import clean, serialize
from lifecycle_operator.report.model import TestReport

SVG_NS: Final = "http://www.w3.org/2000/svg"
FONT: Final = "DejaVu Sans, Verdana, Arial, sans-serif"
CHAR_WIDTH: Final = 7.2  # a 12 px character of that font, on average, to size the label column
PAD: Final = 16
LANES_TOP: Final = 64
LANE_HEIGHT: Final = 24
LANE_GAP: Final = 12
BAR_INSET: Final = 5  # the lane's colour shows above and below every bar
CHART_WIDTH: Final = 720
LINE_HEIGHT: Final = 16

BACKGROUND: Final = "#ffffff"
LANE_FILL: Final = "#dce4ee"
CONTAINER_FILL: Final = "#2f6db5"
HOOK_FILL: Final = "#2a9d8f"
FAIL_COLOUR: Final = "#d62728"
PASS_COLOUR: Final = "#1a7f37"
TEXT_COLOUR: Final = "#1f2328"
MUTED_COLOUR: Final = "#57606a"
MARK_COLOURS: Final = {
    Verb.STARTED.value: "#ffffff",
    Verb.DELAYING.value: "#1f2328",
    Verb.LOOPING.value: "#7c3aed",
    Verb.TERMINATING.value: "#e07b00",
}
OTHER_MARK: Final = "#57606a"
NICE_STEPS: Final = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
MAX_TICKS: Final = 10


@dataclass(frozen=True)
class PlacedLane:
    lane: Lane
    top: float


@dataclass(frozen=True)
class Layout:
    width: int
    chart_x: float
    lanes: list[PlacedLane]
    origin: float  # the uptime at the axis' 0
    span: float  # seconds the axis covers
    step: float  # seconds between ticks

    @property
    def lanes_bottom(self) -> float:
        return self.lanes[-1].top + LANE_HEIGHT if self.lanes else LANES_TOP

    def x(self, uptime: float) -> float:
        return self.chart_x + (uptime - self.origin) / self.span * CHART_WIDTH


def tick_step(seconds: float) -> float:
    """The smallest round step that puts at most MAX_TICKS intervals on the axis."""
    return next((s for s in NICE_STEPS if seconds / s <= MAX_TICKS), NICE_STEPS[-1])


def layout(report: TestReport) -> Layout:
    found = lanes(report)
    uptimes = [e.uptime for e in report.status.timeline]
    origin = math.floor(min(uptimes)) if uptimes else 0.0
    seconds = max((max(uptimes) - origin) if uptimes else 0.0, 1.0)
    step = tick_step(seconds)
    span = math.ceil(seconds / step - 1e-9) * step
    if span - seconds < step / 4:  # room after the last event, for its mark and the last tick's label
        span += step
    label_width = max((len(x.subject) for x in found), default=8) * CHAR_WIDTH
    chart_x = PAD + max(label_width, 80) + 12
    placed = [PlacedLane(lane, LANES_TOP + i * (LANE_HEIGHT + LANE_GAP)) for i, lane in enumerate(found)]
    return Layout(math.ceil(chart_x + CHART_WIDTH + 2 * PAD), chart_x, placed, origin, span, step)


def _attrs(attrs: dict[str, object]) -> dict[str, str]:
    """SVG attribute names from Python keywords: class_ is class, font_size is font-size."""
    return {k.rstrip("_").replace("_", "-"): _attr(v) for k, v in attrs.items()}


def _el(parent: ET.Element, tag: str, text: str | None = None, /, **attrs: object) -> ET.Element:
    element = ET.SubElement(parent, tag, _attrs(attrs))
    if text is not None:
        element.text = clean(text)
    return element


def _attr(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return clean(str(value))


def _seconds(s: float) -> str:
    return f"{s:.2f}".rstrip("0").rstrip(".")


def _bar(parent: ET.Element, geo: Layout, lane: Lane, top: float, bar: Bar) -> None:
    x0, x1 = geo.x(bar.start), geo.x(bar.end)
    ended = "exited" if bar.exited else "no Exiting logged (killed, or still running)"
    g = _el(parent, "g", class_="bar")
    _el(
        g,
        "title",
        f"{lane.subject}: {_seconds(bar.start - geo.origin)} s to "
        f"{_seconds(bar.end - geo.origin)} s, {ended}",
    )
    fill = HOOK_FILL if lane.hook else CONTAINER_FILL
    attrs: dict[str, object] = {"fill": fill}
    if not bar.exited:
        attrs.update(fill_opacity="0.45", stroke=fill, stroke_width=1.5, stroke_dasharray="4 3")
    _el(
        g,
        "rect",
        x=x0,
        y=top + BAR_INSET,
        width=max(x1 - x0, 3.0),
        height=LANE_HEIGHT - 2 * BAR_INSET,
        rx=3,
        **attrs,
    )


def _mark(parent: ET.Element, geo: Layout, lane: Lane, top: float, mark: Mark) -> None:
    x, y = geo.x(mark.uptime), top + LANE_HEIGHT / 2
    g = _el(parent, "g", class_="mark", data_verb=mark.verb)
    detail = f" {mark.detail}" if mark.detail else ""
    _el(
        g,
        "title",
        f"{lane.subject} {mark.verb}{detail} at {_seconds(mark.uptime - geo.origin)} s "
        f"(uptime {_seconds(mark.uptime)}, {mark.time})",
    )
    _glyph(g, mark.verb, x, y)


def _glyph(parent: ET.Element, verb: str, x: float, y: float) -> None:
    """The mark of an event centred on (x, y): a tick, a triangle, a circle or a diamond."""
    colour = MARK_COLOURS.get(verb, OTHER_MARK)
    if verb == Verb.STARTED:
        _el(parent, "line", x1=x, x2=x, y1=y - 5, y2=y + 5, stroke=colour, stroke_width=2)
    elif verb == Verb.TERMINATING:
        _el(parent, "path", d=f"M{x - 5:.1f},{y - 5:.1f} h10 l-5,9 z", fill=colour, stroke="#ffffff")
    elif verb == Verb.LOOPING:
        _el(parent, "circle", cx=x, cy=y, r=4, fill=colour, stroke="#ffffff")
    else:
        _el(parent, "path", d=f"M{x:.1f},{y - 5:.1f} l5,5 l-5,5 l-5,-5 z", fill=colour, stroke="#ffffff")


def _lane(parent: ET.Element, geo: Layout, placed: PlacedLane) -> None:
    lane, top = placed.lane, placed.top
    g = _el(parent, "g", class_="lane", data_subject=lane.subject, data_failing=str(lane.failing).lower())
    _el(
        g,
        "rect",
        class_="lane-band",
        x=geo.chart_x,
        y=top,
        width=CHART_WIDTH,
        height=LANE_HEIGHT,
        fill=LANE_FILL,
    )
    _el(
        g,
        "text",
        lane.subject,
        x=geo.chart_x - 10,
        y=top + LANE_HEIGHT / 2 + 4,
        text_anchor="end",
        font_size=12,
        fill=FAIL_COLOUR if lane.failing else TEXT_COLOUR,
        font_weight="bold" if lane.failing else "normal",
    )
    for bar in lane.bars:
        _bar(g, geo, lane, top, bar)
    for mark in lane.marks:
        _mark(g, geo, lane, top, mark)
    if lane.failing:
        _el(
            g,
            "rect",
            class_="failing-outline",
            x=geo.chart_x - 3,
            y=top - 3,
            width=CHART_WIDTH + 6,
            height=LANE_HEIGHT + 6,
            fill="none",
            stroke=FAIL_COLOUR,
            stroke_width=2.5,
            rx=3,
        )


def _axis(parent: ET.Element, geo: Layout, y: float) -> float:
    g = _el(parent, "g", class_="axis")
    _el(g, "line", x1=geo.chart_x, x2=geo.chart_x + CHART_WIDTH, y1=y, y2=y, stroke=MUTED_COLOUR)
    for i in range(round(geo.span / geo.step) + 1):
        x = geo.x(geo.origin + i * geo.step)
        _el(g, "line", x1=x, x2=x, y1=y, y2=y + 5, stroke=MUTED_COLOUR)
        _el(
            g,
            "text",
            f"{_seconds(i * geo.step)} s",
            x=x,
            y=y + 18,
            text_anchor="middle",
            font_size=11,
            fill=MUTED_COLOUR,
        )
    _el(
        g,
        "text",
        f"seconds since the first event (node uptime {_seconds(geo.origin)} s)",
        x=geo.chart_x + CHART_WIDTH / 2,
        y=y + 34,
        text_anchor="middle",
        font_size=11,
        fill=MUTED_COLOUR,
    )
    return y + 34


def _legend(parent: ET.Element, geo: Layout, y: float) -> float:
    g = _el(parent, "g", class_="legend")
    x = float(PAD)
    items: list[tuple[str, str]] = [
        ("container run", CONTAINER_FILL),
        ("hook run", HOOK_FILL),
        ("no Exiting logged", "unfinished"),
        *((verb, colour) for verb, colour in MARK_COLOURS.items()),
        ("failing subject", FAIL_COLOUR),
    ]
    for label, colour in items:
        width = 22 + len(label) * 6.6 + 16
        if x + width > geo.width - PAD:
            x, y = float(PAD), y + LINE_HEIGHT + 4
        if colour == "unfinished":
            _el(
                g,
                "rect",
                x=x,
                y=y - 9,
                width=16,
                height=10,
                fill=CONTAINER_FILL,
                fill_opacity="0.45",
                stroke=CONTAINER_FILL,
                stroke_dasharray="4 3",
            )
        elif colour == FAIL_COLOUR:
            _el(g, "rect", x=x, y=y - 9, width=16, height=10, fill="none", stroke=colour, stroke_width=2)
        elif label in MARK_COLOURS:
            _el(g, "rect", x=x, y=y - 10, width=16, height=12, fill=CONTAINER_FILL)
            _glyph(g, label, x + 8, y - 4)
        else:
            _el(g, "rect", x=x, y=y - 9, width=16, height=10, fill=colour)
        _el(g, "text", label, x=x + 22, y=y, font_size=11, fill=TEXT_COLOUR)
        x += width
    return y


def _notes(report: TestReport) -> list[tuple[str, str, bool]]:
    """What is written under the chart: (text, colour, bold), one paragraph each."""
    notes: list[tuple[str, str, bool]] = []
    failing = report.failing()
    for i, result in failing:
        notes.append((f"\u2717 expectations[{i}]: {result.description}", FAIL_COLOUR, True))
        notes.append((f"seen: {result.message}", TEXT_COLOUR, False))
    if report.passed:
        notes.append(
            (f"\u2713 all {len(report.status.expectations)} expectations were met", PASS_COLOUR, True)
        )
    elif not failing and report.message:
        notes.append(
            (f"{report.reason or report.result or 'no verdict'}: {report.message}", FAIL_COLOUR, True)
        )
    if not report.status.timeline:
        notes.append(("no events were recorded for this run", MUTED_COLOUR, False))
    if report.status.timeline_truncated:
        notes.append(
            ("the timeline was cut to its last events: earlier runs may be missing", MUTED_COLOUR, False)
        )
    return notes


def _title(report: TestReport) -> tuple[str, str]:
    s = report.status
    run = f"run {s.run}" if s.run is not None else "no run"
    attempt = f", attempt {s.attempt}" if (s.attempt or 1) > 1 else ""
    node = f" on {s.node_name}" if s.node_name else ""
    result = report.result or ("status unreadable" if report.problem else "no verdict yet")
    reason = f" ({report.reason})" if report.reason and report.reason != result else ""
    summary = f", {s.summary} expectations met" if s.summary else ""
    when = f", completed {s.completion_time}" if s.completion_time else ""
    return f"{report.key}: {run}{attempt}{node}", f"{result}{reason}{summary}{when}"


def render(report: TestReport, geo: Layout) -> str:
    title, subtitle = _title(report)
    root = ET.Element("svg", _attrs({"xmlns": SVG_NS, "role": "img", "font_family": FONT}))
    _el(root, "title", f"Timeline of {title}")
    background = _el(root, "rect", x=0, y=0, width="100%", height="100%", fill=BACKGROUND)
    _el(root, "text", title, x=PAD, y=24, font_size=16, font_weight="bold", fill=TEXT_COLOUR)
    colour = PASS_COLOUR if report.passed else FAIL_COLOUR
    _el(root, "text", subtitle, x=PAD, y=44, font_size=12, fill=colour)
    for placed in geo.lanes:
        _lane(root, geo, placed)
    y = _axis(root, geo, geo.lanes_bottom + 10) if report.status.timeline else geo.lanes_bottom
    y = _legend(root, geo, y + 26)
    y += 10
    columns = int((geo.width - 2 * PAD) / 6.8)
    for text, colour, bold in _notes(report):
        for n, line in enumerate(textwrap.wrap(text, columns) or [""]):
            y += LINE_HEIGHT
            _el(
                root,
                "text",
                line,
                x=PAD + (12 if n else 0),
                y=y,
                font_size=12,
                fill=colour,
                font_weight="bold" if bold else "normal",
            )
    height = math.ceil(y + PAD)
    root.set("width", str(geo.width))
    root.set("height", str(height))
    root.set("viewBox", f"0 0 {geo.width} {height}")
    background.set("height", str(height))
    return serialize(root)


def timeline_svg(report: TestReport) -> str:
    """The SVG document for the current or last run of this test."""
    return render(report, layout(report))
