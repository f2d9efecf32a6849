"""benchmarks/results.py: the claims table it writes from the lessons' ledgers, and how it fails."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tlcourse import claims, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import ledger as kit  # noqa: E402 - benchmarks/ledger.py, the authors' claims ledger

SEEDS = list(kit.SEED_CLAIMS)
FT = "03_fine_tuning"


def _load_script():
    spec = importlib.util.spec_from_file_location("benchmarks_results", ROOT / "benchmarks" / "results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


results = _load_script()


@pytest.fixture
def ledgers(tmp_path, monkeypatch):
    """A folder of ledgers as the lessons write them: 03 records two seed claims and one of its own."""
    monkeypatch.setenv(settings.PROFILE_ENV, "quick")
    settings.reload()
    folder = tmp_path / "claims"
    ft = kit.Ledger(FT, folder=folder)
    ft.record("fine-tuning improves on feature extraction", section="5",
              figure="LP-FT minus feature extraction, test accuracy, mean of 3 seeds (sd)",
              value=0.0123, spread=0.008, verdict="not shown")
    ft.record("fine-tune with a small learning rate", section="§4", figure="accuracy, lr 1e-5 minus 1e-3",
              value=0.21, spread=0.03, unit="(fraction)", verdict="shown", note="3 seeds")
    ft.record("a cosine | step schedule costs nothing", section="6", figure="epoch time", value=1234.5,
              unit="s", verdict="mixed")
    cited = kit.Ledger("02_feature_extraction", folder=folder)
    cited.record("early layers are generic, later layers specific", section="3",
                 figure="Yosinski et al. 2014, figure 2", value=None, verdict="shown (cited)")
    return folder


def _run(folder, out, *flags):
    if "--expected" not in flags:
        flags = (*flags, "--expected", str(out.parent / "expected_verdicts.json"))
    return results.main(["--claims", str(folder), "--output", str(out), *flags])


HELPS, NOTHING = claims.compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.91]), claims.compare([0.70, 0.64, 0.69], [0.66, 0.68, 0.66])


def _cited_claims():
    """The claims the decision table cites, the seed claims' and the others'."""
    cells = [c for row in results.DECISION_ROWS.values() for c in row] + [results.DECISION_ALWAYS]
    return {claim for _, cites in cells for claim, _ in cites}


def _everything(folder):
    """Every seed claim recorded by its own lesson (and the decision table's other claims by 05), as a
    comparison with a contrast."""
    by_lesson = {}
    others = {claim: "05_best_practices" for claim in _cited_claims() - set(kit.SEED_CLAIMS)}
    for claim, lesson in {**kit.SEED_CLAIMS, **others}.items():
        by_lesson.setdefault(lesson, kit.Ledger(lesson, folder=folder)).record(
            claim, section="1", figure="a measured difference", comparison=HELPS, condition="where it helps",
            contrast=NOTHING, contrast_condition="where it should not")
    return folder


def _rows(text, heading):
    """The table rows under the ``## heading...`` section, split into cells."""
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # below the header
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_seed_table_has_every_seed_claim_in_order_with_figure_lesson_section_and_verdict(ledgers, tmp_path):
    out = tmp_path / "RESULTS.md"
    assert _run(ledgers, out) == 0
    rows = _rows(out.read_text(encoding="utf-8"), "The seed documents' claims")
    assert [r[0] for r in rows] == SEEDS
    by_claim = {r[0]: r[1:] for r in rows}
    figure, contrast, lesson, verdict = by_claim["fine-tuning improves on feature extraction"]
    assert contrast == "-", "no contrast recorded"
    assert figure == "LP-FT minus feature extraction, test accuracy, mean of 3 seeds (sd): 0.0123 ± 0.0080"
    assert re.fullmatch(r"\[03_fine_tuning\]\(\S+/notebooks/03_fine_tuning\.ipynb\) §5", lesson) and verdict == "not shown"
    figure, _, lesson, verdict = by_claim["fine-tune with a small learning rate"]
    assert figure == "accuracy, lr 1e-5 minus 1e-3: 0.210 ± 0.030 (fraction) (3 seeds)"
    assert lesson.endswith(") §4") and verdict == "shown", "a section given as '§4' is not doubled"
    figure, _, lesson, verdict = by_claim["early layers are generic, later layers specific"]
    assert figure == "Yosinski et al. 2014, figure 2" and lesson.endswith(" §3") and verdict == "shown (cited)"


@pytest.mark.parametrize("value, spread, shown", [
    (0.23251951503072585, 0.08194289173183454, "0.233 ± 0.082"),  # the spread to 2 figures, the value to match
    (-0.053, 0.030, "-0.053 ± 0.030"),
    (150.3, 12.3, "150 ± 12"),
    (2345.6, 120.0, "2,346 ± 120"),
    (0.25000000000000006, None, "0.25"),
    (1234.5, None, "1,234"),
    (0.5, 0.0, "0.5 ± 0"),
])
def test_a_figure_shows_its_value_to_the_precision_of_its_spread(value, spread, shown):
    row = {"figure": "f", "value": value, "spread": spread, "unit": "", "note": ""}
    assert results._figure(row) == f"f: {shown}"


def test_a_seed_claim_no_lesson_recorded_is_a_not_recorded_row(ledgers, tmp_path):
    out = tmp_path / "RESULTS.md"
    _run(ledgers, out)
    rows = {r[0]: r[1:] for r in _rows(out.read_text(encoding="utf-8"), "The seed documents' claims")}
    figure, _, lesson, verdict = rows["fine-tune with a small batch"]
    assert figure == "not recorded (ran, did not record it)" and verdict == "not recorded"
    assert re.fullmatch(r"\[03_fine_tuning\]\(\S+\.ipynb\)", lesson), "the lesson that should have recorded it"
    figure, _, _, verdict = rows["domain adaptation closes part of a domain shift"]
    assert figure == "not recorded (not run)" and verdict == "not recorded"
    heading = re.search(r"## The seed documents' claims \((.*)\)", out.read_text(encoding="utf-8")).group(1)
    assert heading == f"{len(SEEDS)}: 1 shown, 1 not shown, 1 shown (cited), {len(SEEDS) - 3} not recorded"


def test_other_claims_table_holds_the_rest_once(ledgers, tmp_path):
    out = tmp_path / "RESULTS.md"
    _run(ledgers, out)
    text = out.read_text(encoding="utf-8")
    (row,) = _rows(text, "Other claims the lessons recorded")
    assert row[0] == "a cosine \\| step schedule costs nothing", "a | in a claim is escaped, not a new column"
    assert row[1] == "epoch time: 1,234 s" and row[2] == "-" and row[3].endswith(" §6") and row[4] == "mixed"
    tables = text.split("## The seed documents' claims", 1)[1]
    assert tables.count("fine-tuning improves on feature extraction") == 1


def test_header_names_commit_machine_profile_dates_and_the_command(ledgers, tmp_path):
    out = tmp_path / "RESULTS.md"
    _run(ledgers, out)
    text = out.read_text(encoding="utf-8")
    written = json.loads((ledgers / f"{FT}.json").read_text(encoding="utf-8"))
    assert f"- Machine: {written['machine']}\n" in text and "- Profile: quick\n" in text
    assert f"- Photos: {written['data']}. " in text and re.search(r"^- Photos: flowers [\d,]+ photos at \d", text, re.M)
    assert re.search(r"^- Lessons run: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d{4}-\d\d-\d\d ", text, re.M)
    assert "- Ledgers: 2 of " in text and "none from 00_setup_check" in text
    assert "make results" in text and re.search(r"^- Generated: \d{4}-\d\d-\d\d \d\d:\d\d$", text, re.M)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert re.search(rf"^- Commit: {head.stdout.strip()}( with local changes)?$", text, re.M)


def test_commit_says_when_tracked_files_differ_from_it(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                              capture_output=True, text=True, check=True).stdout.strip()

    try:
        git("init", "-q")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git")
    (tmp_path / "benchmarks").mkdir()
    for name in ("lesson.py", "benchmarks/RESULTS.md"):
        (tmp_path / name).write_text("one\n", encoding="utf-8")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    head = git("rev-parse", "--short", "HEAD")
    assert results.commit(tmp_path) == head
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("regenerated\n", encoding="utf-8")
    (tmp_path / "untracked.txt").write_text("new\n", encoding="utf-8")
    assert results.commit(tmp_path) == head, "regenerating RESULTS.md itself does not make the tree dirty"
    (tmp_path / "lesson.py").write_text("two\n", encoding="utf-8")
    assert results.commit(tmp_path) == f"{head} with local changes"
    assert results.commit(tmp_path / "benchmarks" / "nowhere") == "unknown (not a git checkout)"


def test_ledgers_of_several_machines_say_which_lesson_ran_where(ledgers, tmp_path):
    path = ledgers / f"{FT}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(document, machine="gpu-box, 8 cores, Linux", profile="full")), encoding="utf-8")
    text, _ = results.render(results.read_ledgers(ledgers), tmp_path / "RESULTS.md", revision="abc1234", generated="now")
    assert "- Machine: several machines: " in text and "gpu-box, 8 cores, Linux (03)" in text
    assert "- Profile: several profiles: full (03); quick (02)" in text


def test_strict_exits_non_zero_when_a_seed_claim_is_missing(ledgers, tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    assert _run(ledgers, out) == 0
    assert _run(ledgers, out, "--strict") == 1 and out.exists()
    assert "seed claim 'fine-tune with a small batch' not recorded" in capsys.readouterr().err
    # every seed claim recorded by its own lesson, with a contrast, and the verdicts expected: --strict passes
    everything = _everything(tmp_path / "all")
    assert _run(everything, out, "--write-expected") == 0
    assert _run(everything, out, "--strict", "--expected", str(tmp_path / "expected_verdicts.json")) == 0
    assert "not recorded" not in out.read_text(encoding="utf-8").split("## The seed", 1)[1]


def test_a_declared_claim_the_lesson_never_computed_fails_strict(tmp_path, monkeypatch, capsys):
    everything = _everything(tmp_path / "all")
    out = tmp_path / "RESULTS.md"
    assert _run(everything, out, "--write-expected") == 0
    (tmp_path / "decl").mkdir()
    (tmp_path / "decl" / "08_extra.py").write_text('record("x", section="1", figure="f", comparison=never_computed)\n')
    monkeypatch.setattr(kit, "DECLARATIONS", tmp_path / "decl")
    said = kit.record_lesson("08_extra", {}, folder=everything)
    assert "0 claims recorded, 1 problems" in said and "NameError" in said
    assert _run(everything, out, "--strict", "--expected", str(tmp_path / "expected_verdicts.json")) == 1
    assert "08_extra: a declared claim was not recorded: 08_extra.py line 1: NameError" in capsys.readouterr().err


def test_a_seed_claim_recorded_by_another_lesson_is_shown_and_flagged(ledgers, tmp_path, capsys):
    kit.Ledger("07_text_transfer", folder=ledgers).record(
        "fine-tune with a small batch", section="2", figure="batch 8 minus batch 64", value=0.01, verdict="not shown")
    assert _run(ledgers, tmp_path / "RESULTS.md", "--strict") == 1
    rows = {r[0]: r[1:] for r in _rows((tmp_path / "RESULTS.md").read_text(encoding="utf-8"), "The seed")}
    assert "07_text_transfer" in rows["fine-tune with a small batch"][2]
    assert "(its lesson: 03_fine_tuning)" in rows["fine-tune with a small batch"][2]
    assert "recorded by 07_text_transfer, not by 03_fine_tuning" in capsys.readouterr().err


def _with(document, **change):
    return dict(document, **change)


MALFORMED = {
    "not JSON": (lambda d: json.dumps(d)[:-10], "not valid JSON (line"),
    "a list": (lambda d: json.dumps([d]), "expected a JSON object"),
    "no claims": (lambda d: json.dumps({k: v for k, v in d.items() if k != "claims"}), "'claims' missing"),
    "another notebook": (lambda d: json.dumps(_with(d, notebook="05_best_practices")), "names notebook '05_best_practices'"),
    "bad verdict": (lambda d: json.dumps(_with(d, claims=[_with(d["claims"][0], verdict="proven")])),
                    "verdict 'proven' is not one of"),
    "NaN value": (lambda d: json.dumps(_with(d, claims=[_with(d["claims"][0], value=float("nan"))])),
                  "value nan is not a finite number"),
    "text value": (lambda d: json.dumps(_with(d, claims=[_with(d["claims"][0], value="0.9")])),
                   "value '0.9' is not a finite number"),
    "no value, not cited": (lambda d: json.dumps(_with(d, claims=[_with(d["claims"][0], value=None)])),
                            "only a cited claim may have none"),
    "negative spread": (lambda d: json.dumps(_with(d, claims=[_with(d["claims"][0], spread=-0.1)])), "negative spread"),
    "missing section": (lambda d: json.dumps(_with(d, claims=[{k: v for k, v in d["claims"][0].items() if k != "section"}])),
                        "claim 1: field 'section' missing"),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_ledger_is_a_clear_error_naming_the_file(ledgers, tmp_path, capsys, kind):
    path = ledgers / f"{FT}.json"
    spoil, says = MALFORMED[kind]
    path.write_text(spoil(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    with pytest.raises(results.LedgerError, match=re.escape(says)) as error:
        results.read_ledger(path)
    assert str(error.value).startswith(f"{path}: ") and "re-run the lesson 03_fine_tuning" in str(error.value)
    out = tmp_path / "RESULTS.md"
    assert _run(ledgers, out) == 0, "without --strict the table is still written, from the other ledgers"
    assert _run(ledgers, out, "--strict") == 1
    err = capsys.readouterr().err
    assert f"{path}: " in err and says in err
    text = out.read_text(encoding="utf-8")
    assert "## Ledgers that could not be read" in text and "02_feature_extraction" in text


def test_no_ledgers_at_all_is_an_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "RESULTS.md"
    assert _run(tmp_path / "nowhere", out) == 1 and not out.exists()
    assert "no ledgers in" in capsys.readouterr().err


def test_the_links_point_at_notebooks_that_exist(ledgers, tmp_path):
    found = results.read_ledgers(ledgers)
    for out in (tmp_path / "RESULTS.md", tmp_path / "deeper" / "down" / "RESULTS.md"):
        text, _ = results.render(found, out, revision="abc1234", generated="now")
        targets = re.findall(r"\]\(([^)]+)\)", text)
        targets = [t for t in targets if not t.endswith("expected_verdicts.json")]
        assert len(targets) >= len(SEEDS) + 1
        for target in targets:
            assert (out.parent / target).resolve().is_file(), target
    text, _ = results.render(found, results.OUTPUT, revision="abc1234", generated="now")
    assert "[03_fine_tuning](../notebooks/03_fine_tuning.ipynb) §5" in text, "relative to benchmarks/RESULTS.md"
    linked = {Path(t).name for t in re.findall(r"\]\(([^)]+)\)", text)} - {"expected_verdicts.json"}
    assert linked <= {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}


def test_a_ledger_of_no_lesson_is_flagged_and_not_linked(ledgers, tmp_path):
    kit.Ledger("09_not_a_lesson", folder=ledgers).record("x", section="1", figure="y", value=1.0, verdict="shown")
    text, problems = results.render(results.read_ledgers(ledgers), tmp_path / "RESULTS.md", revision="a", generated="b")
    assert "| x | y: 1 | - | 09_not_a_lesson §1 | shown |" in text
    assert any("09_not_a_lesson: a ledger for a notebook the course does not have" in p for p in problems)


def test_make_results_runs_the_script():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nresults: $(STAMP)\n\t$(BIN)/python benchmarks/results.py $(RESULTS_ARGS)\n" in make
    assert re.search(r"^\.PHONY:.* results\b", make, re.M)


# --- comparisons, expected verdicts, the decision table -----------------------------------------------------


def test_a_comparison_shows_its_condition_interval_and_contrast(tmp_path):
    folder = _everything(tmp_path / "claims")
    _run(folder, tmp_path / "RESULTS.md", "--write-expected")
    rows = {r[0]: r[1:] for r in _rows((tmp_path / "RESULTS.md").read_text(encoding="utf-8"), "The seed")}
    figure, contrast, _, verdict = rows["fine-tuning improves on feature extraction"]
    assert figure == "where it helps: a measured difference: 0.047 ± 0.014 (95% interval; better over 3 seeds)"
    assert contrast == ("where it should not: 0.01 ± 0.11 (95% interval; no difference detected over 3 seeds; "
                        "could have seen 0.129)")
    assert verdict == "shown"


def test_a_verdict_that_flips_fails_strict_and_says_which(tmp_path, capsys):
    folder = _everything(tmp_path / "claims")
    out, expected = tmp_path / "RESULTS.md", tmp_path / "expected_verdicts.json"
    assert _run(folder, out, "--write-expected") == 0
    saved = json.loads(expected.read_text(encoding="utf-8"))
    assert saved[FT]["fine-tuning improves on feature extraction"] == {"verdict": "shown",
                                                                      "contrast": "no difference detected"}
    assert _run(folder, out, "--strict") == 0
    kit.Ledger("05_best_practices", folder=folder)  # the lesson re-runs and ...
    ledger = kit.Ledger(FT, folder=folder)
    for claim, lesson in kit.SEED_CLAIMS.items():
        if lesson == FT:  # ... this time fine-tuning's verdict flips, and its contrast too
            ledger.record(claim, section="1", figure="f", comparison=NOTHING, contrast=HELPS)
    ledger.record("a claim nobody expected", section="2", figure="f", comparison=HELPS)
    assert _run(folder, out) == 0, "without --strict it still writes the table"
    assert _run(folder, out, "--strict") == 1
    err = capsys.readouterr().err
    assert "'fine-tuning improves on feature extraction': verdict 'not detected', expected 'shown'" in err
    assert "contrast outcome 'better', expected 'no difference detected'" in err
    assert "'a claim nobody expected' has no expected verdict" in err
    assert "05_best_practices: expected 'augmentation helps when data is small', which the lesson did not record" in err


def test_strict_fails_without_an_expected_verdicts_file(tmp_path, capsys):
    folder = _everything(tmp_path / "claims")
    assert _run(folder, tmp_path / "RESULTS.md", "--strict") == 1
    assert "no expected verdicts at" in capsys.readouterr().err


def test_the_repository_expects_a_verdict_for_every_seed_claim():
    expected = json.loads((ROOT / "benchmarks" / "expected_verdicts.json").read_text(encoding="utf-8"))
    for claim, lesson in kit.SEED_CLAIMS.items():
        verdict = expected.get(lesson, {}).get(claim, {}).get("verdict")
        assert all(v in kit.VERDICTS for v in (verdict if isinstance(verdict, list) else [verdict])), claim


def test_the_decision_table_cites_a_measured_figure_in_every_cell(tmp_path):
    folder = _everything(tmp_path / "claims")
    found = results.read_ledgers(folder)
    lines, missing = results.decision_table(found, tmp_path / "DECISIONS.md")
    assert missing == []
    cells = [c for line in lines if line.startswith("| **") for c in re.split(r"(?<!\\)\|", line)[2:-1]]
    assert len(cells) == 4 and all("&rarr;" in c and "ipynb" in c for c in cells)
    assert "fine-tuning improves on feature extraction (where it helps): 0.047 ± 0.014, shown" in "".join(cells)
    page = results.decisions_page(found, tmp_path / "DECISIONS.md")
    assert page.startswith("# What to do when") and "RESULTS.md" in page
    # a cell whose figure no lesson recorded says so, and the run names it
    empty = kit.Ledger("03_fine_tuning", folder=tmp_path / "few")
    lines, missing = results.decision_table(results.read_ledgers(tmp_path / "few"), tmp_path / "DECISIONS.md")
    assert "not measured in this run" in "".join(lines) and len(missing) >= 4
    assert empty.rows == []


def test_the_readme_and_the_module_show_the_decision_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "<!-- decisions:begin -->" in readme and "<!-- decisions:end -->" in readme
    assert (ROOT / "notebooks" / "DECISIONS.md").is_file()


def test_a_wall_clock_claim_may_expect_either_verdict_and_nothing_else(tmp_path, capsys):
    folder = _everything(tmp_path / "claims")
    out, expected = tmp_path / "RESULTS.md", tmp_path / "expected_verdicts.json"
    assert _run(folder, out, "--write-expected") == 0
    saved = json.loads(expected.read_text(encoding="utf-8"))
    claim = "transfer needs less training time"
    saved["01_what_is_transfer_learning"][claim] = {"verdict": ["not detected", "shown"], "contrast": None}
    expected.write_text(json.dumps(saved), encoding="utf-8")
    assert _run(folder, out, "--strict") == 1, "the contrast is not the expected one"
    assert "contrast outcome 'no difference detected', expected None" in capsys.readouterr().err
    saved["01_what_is_transfer_learning"][claim]["contrast"] = ["no difference detected"]
    expected.write_text(json.dumps(saved), encoding="utf-8")
    assert _run(folder, out, "--strict") == 0
    saved["01_what_is_transfer_learning"][claim]["verdict"] = ["opposite", "not detected"]
    expected.write_text(json.dumps(saved), encoding="utf-8")
    assert _run(folder, out, "--strict") == 1
    assert "verdict 'shown', expected 'opposite' or 'not detected'" in capsys.readouterr().err


def test_amounts_keep_two_significant_figures_of_the_spread_and_at_most_four_places():
    assert results._amount(0.0876, 0.0072) == "0.0876 ± 0.0072"
    assert results._amount(2.37, 0.5) == "2.37 ± 0.50"
    # three seeds that gained exactly the same: the spread is float noise, not 0.000000042
    assert results._amount(0.044999993, 0.000000042) == "0.0450 ± 0.0000"
