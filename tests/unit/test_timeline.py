from lifecycle_operator.timeline import Event, build_timeline, parse_line


def test_parse_line() -> None:
    assert parse_line("1682076093 4905.79 init-1 Starting 0") == Event(
        1682076093, 4905.79, "init-1", "Starting", "0"
    )
    assert parse_line("1682076093 4905.80 init-1 Started") == Event(1682076093, 4905.8, "init-1", "Started")
    assert parse_line("93 4905.80 init-1") is None
    assert parse_line("x 4905.80 init-1 Started") is None
    assert parse_line("12 up init-1 Started") is None


def test_merges_sorts_by_uptime_and_drops_duplicates() -> None:
    init = "100 10.00 init-1 Starting 0\n100 10.01 init-1 Started\n101 11.00 init-1 Exiting\n"
    regular = "102 12.00 regular-1 Starting 0\n"
    # regular-1 replayed init's line into its own record: seen twice, kept once.
    timeline = build_timeline([regular + "100 10.00 init-1 Starting 0\n", init])
    assert [(e.subject, e.verb) for e in timeline.events] == [
        ("init-1", "Starting"),
        ("init-1", "Started"),
        ("init-1", "Exiting"),
        ("regular-1", "Starting"),
    ]


def test_restart_history_keeps_both_instances() -> None:
    text = "1 1.00 r Starting 0\n1 1.10 r Exiting\n2 2.00 r Starting 0\n"
    timeline = build_timeline([text, text])
    assert timeline.count("r", "Starting") == 2
    assert timeline.find("r", "Starting", 1) == 2


def test_truncated_head_is_reported_not_parsed() -> None:
    timeline = build_timeline(["ting 0\n5 5.00 a Started\n"])
    assert timeline.malformed == ("ting 0",)
    assert len(timeline.events) == 1


def test_ties_keep_read_order() -> None:
    timeline = build_timeline(["1 1.00 a Exiting\n1 1.00 b Starting 0\n"])
    assert [e.subject for e in timeline.events] == ["a", "b"]


def test_render_is_short() -> None:
    text = "".join(f"1 {i}.00 a Looping\n" for i in range(30))
    rendered = build_timeline([text]).render("a", limit=3)
    assert rendered.endswith("(27 more)")
    assert build_timeline([]).render("a") == "no events from a"
