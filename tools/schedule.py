"""Write the workshop timetables of instructors/schedule.md from tlcourse/minutes.json.

A lesson's slot is its teaching, exercise and computing minutes (the quick
profile on a 2-core CPU, the figure the tests measured), rounded up to the
minute. Lessons are never split. A break comes before the lesson that would
make the time since the last break longer than ``MAX_BLOCK`` minutes (the
Carpentries plan a break after about every hour of teaching; a lesson here
runs up to 47 min, so 90 min keeps blocks of one to three lessons); in the
full day, the break nearest the middle of the lesson time is the lunch break.
The two half-days split the course at the lesson boundary that makes them
closest in length.

instructors/schedule.md is written by hand except between its markers
``<!-- schedule:NAME:begin -->`` and ``<!-- schedule:NAME:end -->`` (NAME is
``full-day``, ``half-days`` or ``cuts``): this tool regenerates those regions
and keeps the rest. Run it after every change of tlcourse/minutes.json (after
``tools/update_minutes.py``, for example):

    python tools/schedule.py            # rewrite the generated regions of instructors/schedule.md
    python tools/schedule.py --check    # exit 1 if they are out of date
"""

from __future__ import annotations

import math
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "instructors" / "schedule.md"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import nbbuild  # noqa: E402 - the builder sits next to this script; it reads this checkout's minutes.json

timings = nbbuild.timings

__all__ = ["BREAK", "LUNCH", "MAX_BLOCK", "START", "CUTS", "Slot", "cut_savings", "main", "plan", "render",
           "render_cuts", "render_day", "slot_minutes", "split_half_days", "stale", "update"]

START = 9 * 60        # 09:00, in minutes after midnight
BREAK = 15            # minutes of a short break
LUNCH = 60            # minutes of the lunch break (full day only)
MAX_BLOCK = 90        # most minutes of lessons between two breaks (unless one lesson is longer)
REGIONS = ("full-day", "half-days", "cuts")
# What to drop when the room runs late, in the order to try; the minutes saved are computed from minutes.json.
# Each entry: (what to say, {lesson: parts dropped}); parts are "exercises" or "all" (the whole slot).
CUTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("Give the exercises of 05-07 as homework (solutions stay in the notebooks)",
     {"05_best_practices": "exercises", "06_capstone_your_own_data": "exercises", "07_text_transfer": "exercises"}),
    ("Make 06 (capstone) homework: `tlcourse train` runs the same recipe on a learner's own photos",
     {"06_capstone_your_own_data": "all"}),
    ("Drop 07 (text) from a vision-only day", {"07_text_transfer": "all"}),
    ("Give the exercises of 01 and 04 as homework", {"01_what_is_transfer_learning": "exercises",
                                                     "04_domain_adaptation": "exercises"}),
)


@dataclass(frozen=True)
class Slot:
    """One line of a timetable: a lesson or a break, from ``start`` for ``minutes`` (clock minutes)."""

    kind: str                       # "lesson", "break" or "lunch"
    start: int                      # minutes after midnight
    minutes: int
    lesson: timings.NotebookMinutes | None = None

    @property
    def end(self) -> int:
        return self.start + self.minutes


def slot_minutes(m: timings.NotebookMinutes) -> int:
    """A lesson's slot: teaching, exercises and quick-profile computing, rounded up to the minute.

    Examples
    --------
    >>> slot_minutes(timings.NotebookMinutes("01_x", 25, 15, 1.1, 6))
    42
    >>> slot_minutes(timings.NotebookMinutes("02_x", 20, 8, 0.0, 5))
    28
    """
    return math.ceil(round(m.teaching + m.exercises + m.compute_quick, 6))


def _blocks(lessons: list[timings.NotebookMinutes], max_block: int) -> list[list[timings.NotebookMinutes]]:
    """Lessons in order, grouped so that no group but a single long lesson exceeds ``max_block`` minutes."""
    blocks: list[list[timings.NotebookMinutes]] = []
    for m in lessons:
        if blocks and sum(map(slot_minutes, blocks[-1])) + slot_minutes(m) <= max_block:
            blocks[-1].append(m)
        else:
            blocks.append([m])
    return blocks


def plan(lessons: list[timings.NotebookMinutes], *, start: int = START, lunch: bool = False,
         break_minutes: int = BREAK, lunch_minutes: int = LUNCH, max_block: int = MAX_BLOCK) -> list[Slot]:
    """One day's timetable: the lessons in order, with breaks between blocks of at most ``max_block`` minutes.

    With ``lunch``, the break nearest the middle of the day's lesson minutes lasts ``lunch_minutes``.

    Examples
    --------
    >>> ms = [timings.NotebookMinutes(f"0{i}_x", 40, 9, 0.5, 1) for i in range(4)]   # 50 min each
    >>> [(s.kind, s.minutes) for s in plan(ms, lunch=True)]  # doctest: +NORMALIZE_WHITESPACE
    [('lesson', 50), ('break', 15), ('lesson', 50), ('lunch', 60), ('lesson', 50), ('break', 15),
     ('lesson', 50)]
    """
    blocks = _blocks(lessons, max_block)
    ends = [sum(slot_minutes(m) for b in blocks[: i + 1] for m in b) for i in range(len(blocks) - 1)]
    middle = sum(map(slot_minutes, lessons)) / 2
    lunch_after = min(range(len(ends)), key=lambda i: abs(ends[i] - middle)) if lunch and ends else None
    slots, clock = [], start
    for i, block in enumerate(blocks):
        if i:
            kind = "lunch" if i - 1 == lunch_after else "break"
            slots.append(Slot(kind, clock, lunch_minutes if kind == "lunch" else break_minutes))
            clock = slots[-1].end
        for m in block:
            slots.append(Slot("lesson", clock, slot_minutes(m), m))
            clock = slots[-1].end
    return slots


def split_half_days(lessons: list[timings.NotebookMinutes]) -> tuple[list, list]:
    """The course in two parts, cut at the lesson boundary that makes their minutes closest.

    Examples
    --------
    >>> ms = [timings.NotebookMinutes(f"0{i}_x", t, 0, 0, 0) for i, t in enumerate((10, 50, 30, 30))]
    >>> [[m.name for m in half] for half in split_half_days(ms)]
    [['00_x', '01_x'], ['02_x', '03_x']]
    """
    total = sum(map(slot_minutes, lessons))
    cut = min(range(1, len(lessons)), key=lambda i: abs(2 * sum(map(slot_minutes, lessons[:i])) - total))
    return lessons[:cut], lessons[cut:]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _link(m: timings.NotebookMinutes) -> str:
    return f"[{m.name}](../notebooks/{m.name}.ipynb)"


def render_day(slots: list[Slot], title: str | None = None) -> str:
    """A timetable as a markdown table, with its totals.

    Examples
    --------
    >>> day = plan([timings.NotebookMinutes("00_setup_check", 10, 3, 0.3, 1)])
    >>> print(render_day(day).splitlines()[2])
    | 09:00 | 09:14 | [00_setup_check](../notebooks/00_setup_check.ipynb) | 10 | 3 | 0.3 | 14 |
    """
    lines = [f"**{title}**", ""] if title else []
    lines += ["| start | end | lesson or break | teaching | exercises | computing (CPU, quick) | slot (min) |",
              "|---|---|---|---|---|---|---|"]
    for s in slots:
        if s.lesson is None:
            what = "lunch" if s.kind == "lunch" else "break"
            lines.append(f"| {_clock(s.start)} | {_clock(s.end)} | *{what}* |  |  |  | {s.minutes} |")
        else:
            m = s.lesson
            mins = " | ".join(nbbuild.format_minutes(getattr(m, f)) for f in ("teaching", "exercises", "compute_quick"))
            lines.append(f"| {_clock(s.start)} | {_clock(s.end)} | {_link(m)} | {mins} | {s.minutes} |")
    lessons = [s.lesson for s in slots if s.lesson is not None]
    pauses = sum(s.minutes for s in slots if s.lesson is None)
    sums = [nbbuild.format_minutes(sum(getattr(m, f) for m in lessons))
            for f in ("teaching", "exercises", "compute_quick")]
    taught = sum(s.minutes for s in slots if s.lesson is not None)
    lines.append(f"| {_clock(slots[0].start)} | {_clock(slots[-1].end)} | **{len(lessons)} lessons, "
                 f"{pauses} min of breaks** | **{sums[0]}** | **{sums[1]}** | **{sums[2]}** | **{taught}** |")
    return "\n".join(lines)


def cut_savings(table: dict, cut: dict[str, str]) -> int:
    """Slot minutes a cut saves: a whole lesson's slot, or its exercise minutes.

    Examples
    --------
    >>> cut_savings({"notebooks": {"07_x": {"teaching": 25, "exercises": 15, "compute_quick": 0.7,
    ...                                      "compute_full": 5}}}, {"07_x": "exercises"})
    15
    """
    minutes = timings.notebook_minutes(table)
    unknown = sorted(set(cut) - set(minutes))
    if unknown:
        raise ValueError(f"tools/schedule.py CUTS names lessons that tlcourse/minutes.json lacks: {unknown}")
    saved = 0
    for name, part in cut.items():
        m = minutes[name]
        if part == "all":
            saved += slot_minutes(m)
        elif part == "exercises":
            saved += slot_minutes(m) - slot_minutes(timings.NotebookMinutes(m.name, m.teaching, 0, m.compute_quick,
                                                                            m.compute_full))
        else:
            raise ValueError(f"cut part {part!r} for {name}: use 'exercises' or 'all'")
    return saved


def render_cuts(table: dict) -> str:
    """The table of what to drop when behind, and the minutes each saves."""
    lines = ["| if you are behind | saves (min) |", "|---|---|"]
    lines += [f"| {what} | {cut_savings(table, cut)} |" for what, cut in CUTS]
    return "\n".join(lines)


def _regions(table: dict) -> dict[str, str]:
    lessons = list(timings.notebook_minutes(table).values())
    day = plan(lessons, lunch=True)
    first, second = split_half_days(lessons)
    halves = [plan(first), plan(second)]

    def basis(lunch: bool) -> str:
        text = (f"Slots are teaching + exercises + computing, rounded up to the minute; computing as measured on "
                f"the test machine ({table['measured']}). Breaks: {BREAK} min between blocks of at most "
                f"{MAX_BLOCK} min of lessons (a longer lesson stands alone)"
                + (f"; the one nearest the middle of the day is a {LUNCH}-min lunch. " if lunch else ". ")
                + "Generated from `tlcourse/minutes.json` by `tools/schedule.py`: edit that file (or the tool's "
                  "constants), not this table.")
        return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)

    return {
        "full-day": render_day(day) + "\n\n" + basis(lunch=True),
        "half-days": "\n\n".join(render_day(slots, f"Half-day {i}") for i, slots in enumerate(halves, 1))
                     + "\n\n" + basis(lunch=False),
        "cuts": render_cuts(table),
    }


def render(text: str, table: dict) -> str:
    """``text`` (instructors/schedule.md) with every generated region rewritten from ``table``.

    Raises
    ------
    ValueError
        If a region's markers are missing, repeated or out of order.
    """
    for name, body in _regions(table).items():
        begin, end = f"<!-- schedule:{name}:begin -->", f"<!-- schedule:{name}:end -->"
        if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
            raise ValueError(f"instructors/schedule.md needs one {begin} ... {end}")
        head, rest = text.split(begin)
        text = f"{head}{begin}\n{body}\n{end}{rest.split(end)[1]}"
    return text


def stale(path: Path | None = None, table: dict | None = None) -> bool:
    """True when ``path`` (default: instructors/schedule.md) differs from what :func:`render` makes of it."""
    text = (path or SCHEDULE).read_text(encoding="utf-8")
    return render(text, nbbuild.read_table() if table is None else table) != text


def update(path: Path | None = None, table: dict | None = None) -> bool:
    """Rewrite the generated regions of ``path`` (default: instructors/schedule.md); return whether it changed."""
    path = path or SCHEDULE
    text = path.read_text(encoding="utf-8")
    new = render(text, nbbuild.read_table() if table is None else table)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    unknown = [a for a in argv if a != "--check"]
    if unknown:
        print(f"usage: python tools/schedule.py [--check]; unknown {unknown}", file=sys.stderr)
        return 2
    name = SCHEDULE.relative_to(ROOT) if SCHEDULE.is_relative_to(ROOT) else SCHEDULE
    if "--check" in argv:
        if stale():
            print(f"out of date: {name} (run python tools/schedule.py)")
            return 1
        return 0
    print(f"wrote {name}" if update() else f"{name} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
