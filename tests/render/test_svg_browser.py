"""The timeline picture as a person sees it: rendered by a real headless browser (Debian's chromium),
and its screenshot checked for a band per lane where the layout put it and the red outline of the
failing lanes.

Chromium is installed by hack/setup.sh; without it these tests fail, never skip. It opens a file:// URL
and is kept off the network: no proxy, every host name resolved to nothing, and none of its background
services (updates, sync, first-run fetches).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from clustertools import report as figure
from lifecycle_operator.report.svg import (
    BAR_INSET,
    CHART_WIDTH,
    FAIL_COLOUR,
    LANE_FILL,
    LANE_HEIGHT,
    Layout,
    layout,
    timeline_svg,
)
from render.samples import late_hook

pytestmark = pytest.mark.browser

Colour = tuple[int, int, int]
# Anti-aliasing and colour management move a channel by a few units.
TOLERANCE = 12
OFFLINE_FLAGS = [
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def rgb(hex_colour: str) -> Colour:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def near(pixel: Colour, colour: Colour) -> bool:
    return all(abs(a - b) <= TOLERANCE for a, b in zip(pixel, colour, strict=True))


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("LCO_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "chromium is not installed: run `bash hack/setup.sh` (or set LCO_CHROMIUM)", pytrace=False
        )
    return path


@pytest.fixture
def screenshot(chromium: str, tmp_path: Path) -> Callable[[str, str], Image.Image]:
    """Render SVG text in chromium at its own size; the screenshot as an RGB image."""

    def take(svg: str, name: str) -> Image.Image:
        page = tmp_path / f"{name}.svg"
        page.write_text(svg, encoding="utf-8")
        root_attrs = svg.split("<svg", 1)[1].split(">", 1)[0]
        width = int(root_attrs.split('width="', 1)[1].split('"', 1)[0])
        height = int(root_attrs.split('height="', 1)[1].split('"', 1)[0])
        png = tmp_path / f"{name}.png"
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        started = time.monotonic()
        subprocess.run(
            [
                chromium,
                *OFFLINE_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                page.as_uri(),
            ],
            env=env,
            capture_output=True,
            timeout=120,
            check=True,
        )
        figure(f"chromium screenshot of {name} ({width}x{height}): {time.monotonic() - started:.2f}s")
        image = Image.open(png).convert("RGB")
        assert image.size == (width, height)
        return image

    return take


def row(image: Image.Image, y: float, geo: Layout) -> list[Colour]:
    """The pixels of one row across the chart."""
    x0 = int(geo.chart_x) + 1
    return [image.getpixel((x, int(y))) for x in range(x0, x0 + CHART_WIDTH - 2)]  # type: ignore[misc]


def share(pixels: list[Colour], colour: Colour) -> float:
    return sum(near(p, colour) for p in pixels) / len(pixels)


def bands(image: Image.Image, x: int, colour: Colour) -> list[tuple[int, int]]:
    """Runs of rows of this colour down one column: (first row, height)."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for y in range(image.height + 1):
        inside = y < image.height and near(image.getpixel((x, y)), colour)  # type: ignore[arg-type]
        if inside and start is None:
            start = y
        elif not inside and start is not None:
            runs.append((start, y - start))
            start = None
    return runs


def check_picture(image: Image.Image, geo: Layout) -> None:
    """What a person must see: a picture, a lane band per subject where the layout put it, and the red
    outline on exactly the failing lanes."""
    colours = image.getcolors(maxcolors=1 << 16) or []
    white = sum(n for n, c in colours if near(c, (255, 255, 255)))
    assert len(colours) > 20, "the screenshot is blank or nearly so"
    assert white < 0.9 * image.width * image.height, "the screenshot is almost all white"

    lane, red = rgb(LANE_FILL), rgb(FAIL_COLOUR)
    # A column at the end of the axis, after every event: only the lane bands cross it.
    x = int(geo.chart_x + CHART_WIDTH - 4)
    found = bands(image, x, lane)
    wanted = [(int(p.top), LANE_HEIGHT) for p in geo.lanes]
    assert len(found) == len(wanted), f"{len(wanted)} lane bands expected down x={x}, found {found}"
    for (top, height), (want_top, want_height) in zip(found, wanted, strict=True):
        assert abs(top - want_top) <= 1, (found, wanted)
        assert abs(height - want_height) <= 2, (found, wanted)
    for placed in geo.lanes:
        # The band shows across the whole chart above the bars, whatever runs in the lane.
        band = row(image, placed.top + BAR_INSET / 2, geo)
        assert share(band, lane) > 0.95, f"lane {placed.lane.subject} has no band at y={placed.top}"
        outline = share(row(image, placed.top - 3, geo), red)
        if placed.lane.failing:
            assert outline > 0.9, f"the failing lane {placed.lane.subject} is not outlined in red"
        else:
            assert outline < 0.01, f"the passing lane {placed.lane.subject} is outlined in red"


def test_the_timeline_renders_with_a_band_per_lane_and_the_failing_lanes_in_red(
    screenshot: Callable[[str, str], Image.Image],
) -> None:
    report = late_hook()
    geo = layout(report)
    assert [p.lane.failing for p in geo.lanes] == [False, True, True]
    check_picture(screenshot(timeline_svg(report), "late-hook"), geo)


def test_the_check_fails_when_the_lanes_are_not_drawn(screenshot: Callable[[str, str], Image.Image]) -> None:
    report = late_hook()
    broken = timeline_svg(report).replace('class="lane-band"', 'class="lane-band" visibility="hidden"')
    with pytest.raises(AssertionError, match="lane bands expected"):
        check_picture(screenshot(broken, "no-lanes"), layout(report))


def test_the_check_fails_when_the_failing_lane_is_not_outlined(
    screenshot: Callable[[str, str], Image.Image],
) -> None:
    report = late_hook()
    broken = timeline_svg(report).replace(f'stroke="{FAIL_COLOUR}"', 'stroke="none"')
    with pytest.raises(AssertionError, match="is not outlined in red"):
        check_picture(screenshot(broken, "no-outline"), layout(report))
