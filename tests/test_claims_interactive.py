"""tlcourse.claims (the verdict rule), benchmarks/ledger.py (the authors' ledger of claims) and tlcourse.interactive."""

from __future__ import annotations

import base64
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from tlcourse import claims, interactive, settings
from tlcourse.interactive import Choice, Slider, Text, Toggle, Upload

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import ledger as kit  # noqa: E402 - benchmarks/ledger.py, the authors' claims ledger

ROW = {"section": "5", "figure": "LP-FT minus feature extraction, test accuracy", "value": 0.012, "spread": 0.008}


def _file(folder, notebook="03_fine_tuning"):
    return json.loads((Path(folder) / f"{notebook}.json").read_text(encoding="utf-8"))


# --- claims -------------------------------------------------------------------------------------------------


def test_record_writes_the_row_and_the_run_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.PROFILE_ENV, "quick")
    settings.reload()
    ledger = kit.Ledger("03_fine_tuning", folder=tmp_path / "claims")
    assert _file(tmp_path / "claims")["claims"] == [], "the file exists, empty, from the start"
    row = ledger.record("fine-tuning improves on feature extraction", verdict="not shown", unit="", note="3 seeds", **ROW)
    document = _file(tmp_path / "claims")
    assert document["claims"] == [row] and document["notebook"] == "03_fine_tuning" and document["profile"] == "quick"
    assert row == {"claim": "fine-tuning improves on feature extraction", "section": "5", "figure": ROW["figure"],
                   "value": 0.012, "spread": 0.008, "unit": "", "verdict": "not shown", "note": "3 seeds"}
    assert " cores, " in document["machine"] and len(document["written"]) == len("2026-12-01 11:00:00")


def test_a_new_ledger_starts_empty_and_a_re_run_cell_replaces_its_row(tmp_path):
    old = kit.Ledger("05_best_practices", folder=tmp_path)
    old.record("dropout helps", verdict="not shown", **ROW)
    ledger = kit.Ledger("05_best_practices", folder=tmp_path)
    assert _file(tmp_path, "05_best_practices")["claims"] == [], "a re-run lesson does not keep the last run's rows"
    ledger.record("dropout helps", verdict="not shown", **ROW)
    ledger.record("weight decay helps", verdict="mixed", **ROW)
    ledger.record("dropout helps", verdict="shown", **dict(ROW, value=0.05))
    rows = _file(tmp_path, "05_best_practices")["claims"]
    assert sorted(r["claim"] for r in rows) == ["dropout helps", "weight decay helps"]
    assert [(r["value"], r["verdict"]) for r in rows if r["claim"] == "dropout helps"] == [(0.05, "shown")]


@pytest.mark.parametrize("verdict", kit.VERDICTS)
def test_every_verdict_is_accepted(tmp_path, verdict):
    row = kit.Ledger("01_x", folder=tmp_path).record("c", verdict=verdict, **ROW)
    assert row["verdict"] == verdict


@pytest.mark.parametrize("verdict", ["proven", "Shown", "shown(cited)", ""])
def test_another_verdict_is_refused_naming_the_allowed_ones(tmp_path, verdict):
    ledger = kit.Ledger("01_x", folder=tmp_path)
    with pytest.raises(ValueError, match=r"is not one of shown, not detected, opposite, not shown, mixed, shown \(cited\)"):
        ledger.record("c", verdict=verdict, **ROW)
    assert _file(tmp_path, "01_x")["claims"] == []


def test_only_a_cited_claim_may_have_no_value(tmp_path):
    ledger = kit.Ledger("02_feature_extraction", folder=tmp_path)
    row = ledger.record("early layers are generic, later layers specific", section="3",
                        figure="Yosinski et al. 2014, figure 2", value=None, verdict="shown (cited)")
    assert row["value"] is None and row["spread"] is None
    for verdict in ("shown", "not shown", "mixed"):
        with pytest.raises(ValueError, match="only a cited claim may have no measured value"):
            ledger.record("a frozen base plus a new head works", section="2", figure="f", value=None, verdict=verdict)


@pytest.mark.parametrize("value, says", [(math.nan, "must be finite"), (math.inf, "must be finite"),
                                         ("high", "must be a number"), ([0.1], "must be a number")])
def test_a_value_must_be_a_finite_number(tmp_path, value, says):
    ledger = kit.Ledger("01_x", folder=tmp_path)
    with pytest.raises(ValueError, match=f"value {says}"):
        ledger.record("c", section="1", figure="f", value=value, verdict="shown")
    with pytest.raises(ValueError, match=f"spread {says}"):
        ledger.record("c", section="1", figure="f", value=1.0, spread=value, verdict="shown")


def test_a_spread_cannot_be_negative(tmp_path):
    with pytest.raises(ValueError, match="spread"):
        kit.Ledger("01_x", folder=tmp_path).record("c", section="1", figure="f", value=1.0, spread=-0.1, verdict="shown")


def test_numpy_numbers_and_a_numeric_section_are_stored_as_json_can(tmp_path):
    row = kit.Ledger("01_x", folder=tmp_path).record(
        "c", section=4, figure="f", value=np.float32(0.25), spread=np.float64(0.5), verdict="shown")
    assert row["section"] == "4" and type(row["value"]) is float and row["value"] == 0.25
    assert _file(tmp_path, "01_x")["claims"][0]["spread"] == 0.5


@pytest.mark.parametrize("claim, figure", [("", "f"), ("  ", "f"), ("c", ""), ("c", " ")])
def test_a_claim_needs_its_text_and_figure(tmp_path, claim, figure):
    with pytest.raises(ValueError, match="needs its text and the figure"):
        kit.Ledger("01_x", folder=tmp_path).record(claim, section="1", figure=figure, value=1.0, verdict="shown")


def test_load_reads_every_ledger_by_notebook(tmp_path):
    kit.Ledger("02_feature_extraction", folder=tmp_path).record("b", verdict="shown", **ROW)
    first = kit.Ledger("01_what_is_transfer_learning", folder=tmp_path)
    first.record("a1", verdict="shown", **ROW)
    first.record("a2", verdict="mixed", **ROW)
    (tmp_path / "07_text_transfer.json.tmp").write_text("{half a fi", encoding="utf-8")  # an interrupted write
    found = kit.load(tmp_path)
    assert list(found) == ["01_what_is_transfer_learning", "02_feature_extraction"]
    assert [r["claim"] for r in found["01_what_is_transfer_learning"]] == ["a1", "a2"]
    assert kit.load(tmp_path / "none") == {}


def test_the_file_is_replaced_whole_never_written_in_place(tmp_path, monkeypatch):
    ledger = kit.Ledger("03_fine_tuning", folder=tmp_path)
    ledger.record("kept", verdict="shown", **ROW)
    before = (tmp_path / "03_fine_tuning.json").read_bytes()

    def crash(self, target):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        ledger.record("lost", verdict="shown", **ROW)
    assert (tmp_path / "03_fine_tuning.json").read_bytes() == before, "a failed write leaves the last good file"
    monkeypatch.undo()
    ledger.record("later", verdict="shown", **ROW)
    assert [p.name for p in tmp_path.iterdir()] == ["03_fine_tuning.json"], "no temporary file left behind"
    assert [r["claim"] for r in _file(tmp_path)["claims"]] == ["kept", "lost", "later"]


# --- the one rule: compare, conclusion, a recorded comparison -------------------------------------------------


def test_compare_is_paired_and_says_better_worse_or_nothing_detected():
    better = claims.compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
    assert better.outcome == "better" and better.n == 3 and better.over == "3 seeds"
    assert math.isclose(better.effect, 0.0467, abs_tol=1e-4)
    assert claims.compare([0.90, 0.91, 0.91], [0.95, 0.96, 0.95]).outcome == "worse"
    # the same means, unpaired noise: the seeds disagree, so nothing is detected
    noisy = claims.compare([0.99, 0.90, 0.96], [0.90, 0.95, 0.91])
    assert noisy.outcome == "no difference detected" and noisy.half_width > abs(noisy.effect)
    assert str(better) == "+0.047 ± 0.014 (95% interval over 3 seeds): better"


def test_compare_widens_with_fewer_seeds_as_students_t_says():
    d = [0.03, 0.01, 0.02, 0.04, 0.00, 0.02, 0.03, 0.01]
    few, many = claims.compare(d[:3]), claims.compare(d)
    assert few.half_width > many.half_width and many.outcome == "better"
    se = np.std(d, ddof=1) / math.sqrt(len(d))
    assert math.isclose(many.half_width, 2.3646 * se, rel_tol=1e-3)  # t(0.975, 7 degrees of freedom)
    assert math.isclose(many.detectable, (2.3646 + 0.8416) * se, rel_tol=1e-3)


def test_one_run_needs_a_floor_and_the_floor_bounds_the_interval():
    with pytest.raises(ValueError, match="one run has no spread"):
        claims.compare([0.6], [0.5])
    one = claims.compare([0.6], [0.5], se_floor=0.02)
    assert one.outcome == "better" and math.isclose(one.half_width, 1.96 * 0.02)
    assert "one run" in one.over
    tight = claims.compare([0.51, 0.51, 0.51], [0.50, 0.50, 0.50], se_floor=0.01)
    assert tight.outcome == "no difference detected", "identical seeds are no proof: the floor still holds"


@pytest.mark.parametrize("a, b", [([], []), ([0.1, 0.2], [0.1]), ([[0.1]], [[0.1]]), ([0.1, math.nan], [0.1, 0.1])])
def test_compare_refuses_what_is_not_two_paired_lists(a, b):
    with pytest.raises(ValueError, match="compare"):
        claims.compare(a, b)


def test_conclusion_follows_the_outcome_not_a_typed_verdict():
    better = claims.compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
    worse = claims.compare([0.90, 0.91, 0.91], [0.95, 0.96, 0.95])
    none = claims.compare([0.70, 0.64, 0.69], [0.66, 0.68, 0.66])
    assert claims.conclusion(better, "fine-tuning", "feature extraction", "on digits").startswith(
        "On digits, fine-tuning beats feature extraction: +0.047")
    assert "does worse than" in claims.conclusion(worse, "a", "b")
    said = claims.conclusion(none, "a", "b", "on flowers")
    assert said.startswith("On flowers, no difference between a and b was detected") and "could have seen" in said


def test_a_recorded_comparison_brings_its_verdict_value_and_contrast(tmp_path):
    ledger = kit.Ledger("03_fine_tuning", folder=tmp_path)
    far = claims.compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
    near = claims.compare([0.70, 0.64, 0.69], [0.66, 0.68, 0.66])
    row = ledger.record("fine-tuning improves on feature extraction", section="4", figure="test accuracy, FT - FE",
                        comparison=far, condition="digits", contrast=near, contrast_condition="flowers")
    assert row["verdict"] == "shown" and row["value"] == far.effect and row["spread"] == far.half_width
    assert row["condition"] == "digits" and row["contrast_condition"] == "flowers"
    assert row["contrast"]["outcome"] == "no difference detected" and row["comparison"]["n"] == 3
    assert _file(tmp_path)["claims"] == [row], "what the file holds is JSON: the comparison as plain numbers"
    for c, verdict in ((near, "not detected"), (claims.compare([0.9, 0.91, 0.91], [0.95, 0.96, 0.95]), "opposite")):
        assert ledger.record("c", section="1", figure="f", comparison=c)["verdict"] == verdict


def test_a_comparison_cannot_be_given_a_verdict_or_value_by_hand(tmp_path):
    ledger = kit.Ledger("03_fine_tuning", folder=tmp_path)
    c = claims.compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
    with pytest.raises(ValueError, match="brings its own value and verdict"):
        ledger.record("c", section="1", figure="f", comparison=c, verdict="not shown")
    with pytest.raises(ValueError, match="brings its own value and verdict"):
        ledger.record("c", section="1", figure="f", comparison=c, value=0.5)
    with pytest.raises(ValueError, match="contrast is measured beside a comparison"):
        ledger.record("c", section="1", figure="f", contrast=c, value=0.1, verdict="mixed")
    assert _file(tmp_path)["claims"] == []


def test_record_lesson_records_each_declaration_from_the_lessons_variables(tmp_path, monkeypatch):
    (tmp_path / "03_fine_tuning.py").write_text(
        'where = f"digits at {SIZE} px"\n'
        'record("fine-tuning improves on feature extraction", section="3", figure="FT - FE", comparison=far,\n'
        '       condition=where)\n'
        'record("a claim of a cell that failed", section="4", figure="f", comparison=not_computed)\n'
        'record("a cited claim", section="6", figure="Masters and Luschi (2018)", value=None, verdict="shown (cited)")\n')
    monkeypatch.setattr(kit, "DECLARATIONS", tmp_path)
    far = claims.compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91])
    said = kit.record_lesson("03_fine_tuning", {"SIZE": 28, "far": far}, folder=tmp_path / "out")
    document = _file(tmp_path / "out")
    assert [(r["claim"], r["verdict"]) for r in document["claims"]] == [
        ("fine-tuning improves on feature extraction", "shown"), ("a cited claim", "shown (cited)")]
    assert document["claims"][0]["condition"] == "digits at 28 px" and document["claims"][0]["value"] == far.effect
    assert document["problems"] == ["03_fine_tuning.py line 4: NameError: name 'not_computed' is not defined"]
    assert said.startswith("ledger 03_fine_tuning.json: 2 claims recorded, 1 problems")


def test_seed_claims_are_distinct_and_assigned_to_lessons():
    assert len(kit.SEED_CLAIMS) == 18 and all(c == c.strip() and c for c in kit.SEED_CLAIMS)
    lessons = {p.stem for p in (Path(__file__).resolve().parents[1] / "notebooks" / "src").glob("*.py")}
    assert set(kit.SEED_CLAIMS.values()) <= lessons


# --- interactive: controls ------------------------------------------------------------------------------------


def test_defaults_are_each_controls_starting_value():
    controls = {"n": Slider(1, 10), "lr": Slider(0.0, 1.0, 0.1, default=0.3), "kind": Choice(["a", "b"]),
                "pair": Choice([("one", 1), ("two", 2)], default=2), "on": Toggle(True), "off": Toggle(),
                "words": Text("hello"), "photo": Upload(), "sample": Upload(default=b"\x89PNG")}
    assert interactive.defaults(controls) == {"n": 1, "lr": 0.3, "kind": "a", "pair": 2, "on": True, "off": False,
                                              "words": "hello", "photo": None, "sample": b"\x89PNG"}


@pytest.mark.parametrize("make, says", [
    (lambda: Slider(5, 5), "low < high"),
    (lambda: Slider(5, 1), "low < high"),
    (lambda: Slider(0, 10, 0), "positive step"),
    (lambda: Slider(0, 10, -1), "positive step"),
    (lambda: Slider(0, 10, default=11), "outside"),
    (lambda: Slider(0.0, 1.0, 0.1, default=-0.5), "outside"),
    (lambda: Choice([]), "at least one option"),
    (lambda: Choice(["a", "b"], default="c"), "not one of"),
    (lambda: Choice([("one", 1)], default="one"), "not one of"),
])
def test_a_control_that_cannot_work_is_refused(make, says):
    with pytest.raises(ValueError, match=says):
        make()


def test_widgets_match_the_controls():
    found = interactive.widgets_for({"n": Slider(1, 10, default=4), "lr": Slider(0, 1, 0.05, default=0.5),
                                     "kind": Choice([("one", 1), ("two", 2)], default=2), "on": Toggle(True),
                                     "words": Text("hi", description="say"), "photo": Upload()})
    assert {k: type(w).__name__ for k, w in found.items()} == {
        "n": "IntSlider", "lr": "FloatSlider", "kind": "Dropdown", "on": "Checkbox", "words": "Text", "photo": "FileUpload"}
    assert (found["n"].value, found["lr"].value, found["kind"].value, found["on"].value) == (4, 0.5, 2, True)
    assert found["words"].description == "say" and found["n"].description == "n" and found["photo"].value == ()


def test_uploaded_bytes_reads_what_ipywidgets_8_gives():
    import ipywidgets as w

    upload = w.FileUpload()
    # what the front end sends when a learner picks a file (ipywidgets 8 turns it into a tuple of dicts)
    upload.set_state({"value": [{"name": "bee.jpg", "type": "image/jpeg", "size": 3, "content": memoryview(b"\xff\xd8\xff"),
                                 "last_modified": 1_700_000_000_000}]})
    assert isinstance(upload.value, tuple) and isinstance(upload.value[0]["content"], memoryview)
    assert interactive.uploaded_bytes(upload.value) == b"\xff\xd8\xff"
    assert interactive.uploaded_bytes(w.FileUpload().value, b"sample") == b"sample"
    assert interactive.uploaded_bytes(None, b"sample") == b"sample" and interactive.uploaded_bytes(b"x") == b"x"
    assert interactive.uploaded_bytes({"a.jpg": {"content": b"old"}}) == b"old", "ipywidgets 7's dict of files"
    assert interactive.uploaded_bytes((), None) is None


# --- interactive: explore -------------------------------------------------------------------------------------


def test_explore_outside_ipython_draws_once_with_the_defaults(capsys):
    calls = []

    def draw(k, kind, on, photo):
        calls.append((k, kind, on, photo))
        print(f"k={k}")

    interactive.explore(draw, {"k": Slider(1, 9, default=3), "kind": Choice(["x", "y"]), "on": Toggle(),
                               "photo": Upload(default=b"sample")}, title="ignored here")
    assert calls == [(3, "x", False, b"sample")]
    assert capsys.readouterr().out == "k=3\n"


def test_explore_needs_a_control():
    with pytest.raises(ValueError, match="at least one control"):
        interactive.explore(lambda: None, {})


@pytest.fixture
def front_end(monkeypatch):
    """explore as in a kernel with widgets: what it displays, and the widgets it made (by name)."""
    import IPython
    import IPython.display
    import matplotlib.pyplot as plt

    plt.close(plt.figure())  # pyplot sets its backend up at the first figure, asking the (fake) shell: before it
    shown, made = [], {}
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False, metadata=None: shown.append((obj, raw)))
    real = interactive.widgets_for
    monkeypatch.setattr(interactive, "widgets_for", lambda controls: made.update(real(controls)) or made)
    return shown, made


def test_explore_in_a_front_end_shows_widget_view_default_figure_and_a_text_line(front_end):
    import matplotlib.pyplot as plt

    shown, made = front_end
    calls = []

    def draw(k, squared):
        calls.append((k, squared))
        plt.figure(figsize=(2, 2))
        plt.plot(range(k))
        print("squared" if squared else "plain")

    interactive.explore(draw, {"k": Slider(1, 10, default=3), "squared": Toggle(True)}, title="Powers")
    ((bundle, raw),) = shown
    assert raw and set(bundle) == {"text/plain", "image/png", "application/vnd.jupyter.widget-view+json"}
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert bundle["text/plain"] == "squared\n[interactive in JupyterLab: Powers (k=3, squared=True); shown here at these values]"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert calls[0] == (3, True)
    made["k"].value = 7  # the learner moves the slider: draw runs again with its value
    assert calls[-1] == (7, True)
    plt.close("all")


def test_explore_without_a_figure_shows_text_only(front_end):
    shown, _ = front_end
    interactive.explore(lambda n: print(n * 2), {"n": Slider(1, 5, default=2)})
    ((bundle, _),) = shown
    assert "image/png" not in bundle and bundle["text/plain"].startswith("4\n[interactive in JupyterLab: controls (n=2)")


def test_live_redraw_gives_draw_the_uploaded_bytes_or_the_default(front_end):
    _, made = front_end
    received = []
    interactive.explore(lambda photo: received.append(photo), {"photo": Upload(default=b"sample")})
    made["photo"].set_state({"value": [{"name": "a.jpg", "type": "image/jpeg", "size": 2, "content": memoryview(b"xy"),
                                        "last_modified": 0}]})
    assert received[0] == b"sample" and all(isinstance(r, bytes) for r in received) and received[-1] == b"xy"


@pytest.mark.slow
def test_in_a_real_kernel_the_cell_output_holds_widget_view_png_and_text(tmp_path):
    """A one-cell notebook run by nbclient (as nbval and nbconvert --execute run the lessons)."""
    import nbformat
    from nbclient import NotebookClient

    cell = "\n".join([
        "import matplotlib.pyplot as plt",
        "from tlcourse import interactive",
        "def draw(k, kind):",
        "    plt.figure(figsize=(2, 2)); plt.bar(range(k), range(k)); plt.title(kind)",
        "    print(f'{k} bars, {kind}')",
        "interactive.explore(draw, {'k': interactive.Slider(1, 8, default=5), "
        "'kind': interactive.Choice(['linear', 'log'])}, title='Bars')",
    ])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    (bundle,) = [o.data for o in outputs if o.output_type == "display_data"]
    assert {"application/vnd.jupyter.widget-view+json", "image/png", "text/plain"} <= set(bundle)
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert bundle["text/plain"] == ("5 bars, linear\n[interactive in JupyterLab: Bars (k=5, kind='linear'); "
                                    "shown here at these values]")
    assert [o for o in outputs if o.output_type == "stream"] == [], "the default drawing's text is in the bundle only"
    assert "widgets" in nb.metadata and bundle["application/vnd.jupyter.widget-view+json"]["model_id"] in json.dumps(
        nb.metadata["widgets"]), "the widget state is stored, so a front end can draw the view"
