"""The workshop timetables (instructors/schedule.md) are generated from tlcourse/minutes.json and add up.

Fast: no TensorFlow. tools/schedule.py writes the regions between the page's markers; these tests check
that the committed page is current, that a change of minutes makes it stale, and the timetables' arithmetic.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


schedule = _load_tool("schedule")
nbbuild = schedule.nbbuild
timings = nbbuild.timings  # tools/minutes.py
LESSONS = list(timings.notebook_minutes(nbbuild.read_table()).values())


def _lesson(name, teaching, exercises=0, compute=0.0):
    return timings.NotebookMinutes(name, teaching, exercises, compute, 1)


def _check_day(slots, start=schedule.START):
    """Every slot starts where the previous one ended, and the day lasts the sum of its slots."""
    assert slots[0].start == start
    for before, after in zip(slots, slots[1:]):
        assert after.start == before.end
    assert slots[-1].end - slots[0].start == sum(s.minutes for s in slots)
    assert slots[0].kind == "lesson" and slots[-1].kind == "lesson", "a day neither starts nor ends on a break"
    assert all(a.kind == "lesson" or b.kind == "lesson" for a, b in zip(slots, slots[1:])), "no two breaks in a row"


def _blocks(slots):
    blocks, current = [], []
    for s in slots:
        if s.kind == "lesson":
            current.append(s)
        else:
            blocks.append(current)
            current = []
    return blocks + [current]


def test_schedule_page_is_current():
    assert schedule.main(["--check"]) == 0, "run: python tools/schedule.py"


def test_check_fails_when_the_minutes_change(tmp_path, monkeypatch, capsys):
    page = tmp_path / "schedule.md"
    page.write_text(schedule.SCHEDULE.read_text(encoding="utf-8"), encoding="utf-8")
    table = nbbuild.read_table()
    assert not schedule.stale(page, table)
    table["notebooks"]["03_fine_tuning"]["teaching"] += 10
    assert schedule.stale(page, table)
    monkeypatch.setattr(schedule, "SCHEDULE", page)
    monkeypatch.setattr(nbbuild, "read_table", lambda path=None: table)
    assert schedule.main(["--check"]) == 1 and "out of date" in capsys.readouterr().out
    assert schedule.main([]) == 0 and schedule.main(["--check"]) == 0
    assert "| 40 | 10 |" in page.read_text(encoding="utf-8"), "03's new teaching minutes are in the table"


def test_hand_written_text_outside_the_markers_is_kept():
    text = schedule.SCHEDULE.read_text(encoding="utf-8")
    mine = "A sentence an instructor wrote.\n"
    edited = text.replace("<!-- schedule:cuts:end -->", "<!-- schedule:cuts:end -->\n" + mine)
    assert mine in schedule.render(edited, nbbuild.read_table())
    with pytest.raises(ValueError, match="schedule:cuts:begin"):
        schedule.render(text.replace("<!-- schedule:cuts:begin -->", ""), nbbuild.read_table())


def test_a_slot_is_the_lesson_minutes_rounded_up():
    for m in LESSONS:
        total = m.teaching + m.exercises + m.compute_quick
        assert total <= schedule.slot_minutes(m) < total + 1


def test_full_day_adds_up_with_one_lunch_and_breaks_between_blocks():
    day = schedule.plan(LESSONS, lunch=True)
    _check_day(day)
    assert [s.lesson.name for s in day if s.kind == "lesson"] == [m.name for m in LESSONS], "every lesson, in order"
    assert sum(s.minutes for s in day if s.kind == "lesson") == sum(map(schedule.slot_minutes, LESSONS))
    assert [s.kind for s in day].count("lunch") == 1
    assert all(s.minutes == schedule.BREAK for s in day if s.kind == "break")
    for block in _blocks(day):
        assert len(block) == 1 or sum(s.minutes for s in block) <= schedule.MAX_BLOCK
    pauses = sum(s.minutes for s in day if s.kind != "lesson")
    assert day[-1].end - day[0].start == sum(map(schedule.slot_minutes, LESSONS)) + pauses


def test_lunch_goes_to_the_break_nearest_the_middle():
    # seven lessons of 40 min: blocks of two (80 min), breaks after 80, 160 and 240 of 280 minutes
    day = schedule.plan([_lesson(f"0{i}_x", 40) for i in range(7)], lunch=True)
    assert [(s.kind, s.minutes) for s in day if s.kind != "lesson"] == [("break", 15), ("lunch", 60), ("break", 15)]
    assert day[-1].end == schedule.START + 280 + 90
    _check_day(day)


def test_a_lesson_longer_than_a_block_stands_alone():
    day = schedule.plan([_lesson("00_x", 10), _lesson("01_x", 120), _lesson("02_x", 10)])
    assert [s.kind for s in day] == ["lesson", "break", "lesson", "break", "lesson"]
    _check_day(day)


def test_half_days_split_the_course_evenly_and_add_up():
    first, second = schedule.split_half_days(LESSONS)
    assert first + second == LESSONS and first and second
    gap = abs(sum(map(schedule.slot_minutes, first)) - sum(map(schedule.slot_minutes, second)))
    for cut in range(1, len(LESSONS)):
        other = abs(sum(map(schedule.slot_minutes, LESSONS[:cut])) - sum(map(schedule.slot_minutes, LESSONS[cut:])))
        assert gap <= other, "no other lesson boundary is more even"
    for half in (first, second):
        day = schedule.plan(half)
        _check_day(day)
        assert "lunch" not in [s.kind for s in day]


def test_rendered_totals_are_the_sums_of_the_rows():
    day = schedule.plan(LESSONS, lunch=True)
    table = schedule.render_day(day)
    rows = [r.split("|")[1:-1] for r in table.splitlines()[2:]]
    body, total = rows[:-1], rows[-1]
    assert len(body) == len(day)
    assert sum(int(r[6]) for r in body) == day[-1].end - day[0].start
    lesson_rows = [r for r in body if r[3].strip()]
    assert int(total[6].strip(" *")) == sum(int(r[6]) for r in lesson_rows)
    assert float(total[3].strip(" *")) == sum(float(r[3]) for r in lesson_rows)
    assert math.isclose(float(total[5].strip(" *")), sum(float(r[5]) for r in lesson_rows), abs_tol=0.05)


def test_cuts_save_what_minutes_json_says():
    table = nbbuild.read_table()
    m = timings.notebook_minutes(table)
    assert schedule.cut_savings(table, {"07_text_transfer": "all"}) == schedule.slot_minutes(m["07_text_transfer"])
    saved = schedule.cut_savings(table, {"07_text_transfer": "exercises"})
    assert m["07_text_transfer"].exercises <= saved <= m["07_text_transfer"].exercises + 1
    for _, cut in schedule.CUTS:
        assert 0 < schedule.cut_savings(table, cut)
    with pytest.raises(ValueError, match="lacks"):
        schedule.cut_savings(table, {"99_missing": "all"})


def test_the_readme_and_the_guide_lead_to_the_schedule_and_the_instructors_pages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in ("instructors/guide.md", "instructors/schedule.md", "notebooks/GLOSSARY.md", "binder/README.md",
                   "benchmarks/RESULTS.md"):
        assert f"]({target})" in readme, target
    assert "make student" in readme and "jupyter-repo2docker" in readme and "mybinder.org" in readme
    guide = (ROOT / "instructors" / "guide.md").read_text(encoding="utf-8")
    for page in sorted((ROOT / "instructors").glob("*.md")):
        if page.name != "guide.md":
            assert f"]({page.name})" in guide, f"guide.md does not link {page.name}"
