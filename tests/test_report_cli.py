"""`hinge-imu report` end to end: a SIMULATED recording → PDF, PNGs and CSVs.

The CSVs are read back with pandas and checked against the analysis of the
same recording; the PDF is opened with pypdf.
"""

from __future__ import annotations

import math
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from hinge_imu.cli import main
from hinge_imu.conventions import ANGLE_NAMES, REP_METRICS, RULE_IDS
from hinge_imu.core.pipeline import analyse
from hinge_imu.recording import write_recording
from hinge_imu.sim import SimConfig, simulate

SESSION_PNGS = [
    "1_session_over_time.png",
    "2_reps_overlaid.png",
    "3_scores_and_mistakes.png",
    "4_calibration_and_quality.png",
    "5_rep_table.png",
]
CSVS = ["reps.csv", "angles.csv", "summary.csv", "columns.csv"]


def _simulated(path: Path, seed: int, mistakes: list[dict[str, float | None]]) -> Path:
    sim = simulate(SimConfig.preset("clean", reps=len(mistakes), mistakes=mistakes, seed=seed))
    write_recording(path, sim.recording)
    return path


@pytest.fixture(scope="module")
def recs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("recs")
    a = _simulated(
        d / "week1.csv.gz",
        11,
        [{}, {}, {"back_rounded": None}, {"back_rounded": None}, {"no_lockout": None}, {}],
    )
    b = _simulated(d / "week2.csv.gz", 12, [{}, {}, {}, {"back_rounded": None}, {}])
    return [a, b]


@pytest.fixture(scope="module")
def one(recs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("one") / "report"
    assert main(["report", str(recs[0]), "--out", str(out)]) == 0
    return out


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


def test_writes_pdf_pngs_and_csvs(one: Path) -> None:
    assert sorted(p.name for p in one.iterdir()) == sorted(["report.pdf", *SESSION_PNGS, *CSVS])
    pdf = PdfReader(one / "report.pdf")
    assert len(pdf.pages) == 5
    for page in pdf.pages:
        # A4 landscape: 842 × 595 points.
        assert abs(float(page.mediabox.width) - 841.7) < 1.5
        assert abs(float(page.mediabox.height) - 595.4) < 1.5
        assert "SIMULATED" in page.extract_text()
    assert "SIMULATED" in str(pdf.metadata.title)
    for name in SESSION_PNGS:
        w, h = _png_size(one / name)
        assert (abs(w - 1754) <= 1, h) == (True, 1240)  # A4 landscape at 150 dpi
    # No temp files left behind by the atomic writes.
    assert not [p for p in one.iterdir() if p.name.startswith(".")]


def test_reps_csv_is_the_contract_frame(one: Path, recs: list[Path]) -> None:
    session = analyse(recs[0])
    expected = session.reps_frame()
    got = pd.read_csv(one / "reps.csv", keep_default_na=False, na_values=[""])
    assert list(got.columns) == list(expected.columns)
    assert list(got.columns[:4]) == ["rep", "t_start", "t_bottom", "t_end"]
    assert len(got) == len(session.reps) >= 5
    for col in ["t_start", "t_bottom", "t_end", *REP_METRICS, "score"]:
        np.testing.assert_allclose(
            got[col].to_numpy(float), expected[col].to_numpy(float), atol=1e-9, equal_nan=True
        )
    as_text = pd.read_csv(one / "reps.csv", dtype=str, keep_default_na=False)
    for rule in RULE_IDS:
        assert as_text[rule].tolist() == expected[rule].tolist()
    assert as_text["mistakes"].tolist() == expected["mistakes"].tolist()
    # tripod_foot is never assessed, so its cells are empty, never "false".
    assert got["tripod_foot"].isna().all()
    # The injected back rounding is what the analysis found in reps 3 and 4.
    assert got.loc[got["rep"].isin([3, 4]), "back_rounded"].tolist() == [True, True]


def test_angles_csv_on_a_fixed_grid(one: Path, recs: list[Path]) -> None:
    session = analyse(recs[0])
    got = pd.read_csv(one / "angles.csv")
    assert list(got.columns) == ["t_s", "rep", *(f"{a}_deg" for a in ANGLE_NAMES)]
    np.testing.assert_allclose(np.diff(got["t_s"]), 0.02, atol=1e-9)
    t_src = session.angles["t_s"].to_numpy()
    assert got["t_s"].iloc[0] >= t_src[0] - 1e-9 and got["t_s"].iloc[-1] <= t_src[-1] + 1e-9
    for angle in ("hip_flexion", "lumbar_flexion", "pelvic_tilt", "thigh_inclination"):
        src = session.angles[f"{angle}_deg"].to_numpy()
        ok = np.isfinite(src)
        want = np.interp(got["t_s"], t_src[ok], src[ok])
        have = got[f"{angle}_deg"].to_numpy()
        fin = np.isfinite(have)
        assert fin.mean() > 0.95
        np.testing.assert_allclose(have[fin], want[fin], atol=0.006)
    # No head sensor: the column is there and empty.
    assert got["head_extension_deg"].isna().all()
    for rep in session.reps:
        inside = (got["t_s"] >= rep.metrics.t_start) & (got["t_s"] <= rep.metrics.t_end)
        assert (got.loc[inside, "rep"] == rep.rep).all()
    assert got["rep"].isna().any()  # standing between reps


def test_summary_csv_matches_the_reps(one: Path) -> None:
    summary = pd.read_csv(one / "summary.csv")
    reps = pd.read_csv(one / "reps.csv")
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["simulated"] == True  # noqa: E712 (pandas reads "true" as a bool)
    assert row["reps"] == len(reps)
    judged = reps[reps["judged"]]
    assert row["reps_judged"] == len(judged)
    assert row["score_mean"] == pytest.approx(judged["score"].mean(), abs=0.006)
    assert row["score_sd"] == pytest.approx(judged["score"].std(ddof=1), abs=0.006)
    # Both files round to 0.01 deg: the mean of rounded values and the rounded
    # mean of exact values may differ by up to one unit in the last place.
    for metric in ("hip_flexion_peak", "lumbar_flexion_max", "pelvic_tilt_lockout"):
        assert row[f"{metric}_mean_deg"] == pytest.approx(judged[metric].mean(), abs=0.0101)
    for rule in RULE_IDS:
        assessed = judged[rule].notna().sum()
        assert row[f"{rule}_assessed"] == assessed
        if assessed:
            assert row[f"{rule}_count"] == (judged[rule] == True).sum()  # noqa: E712
        else:  # never assessed is not "never happened"
            assert math.isnan(row[f"{rule}_count"])
    assert row["back_rounded_count"] >= 2
    assert math.isnan(row["neck_extended_count"])  # no head sensor


def test_csvs_open_cleanly(one: Path) -> None:
    described = pd.read_csv(one / "columns.csv")
    assert list(described.columns) == ["file", "column", "unit", "meaning"]
    for name in ["reps.csv", "angles.csv", "summary.csv"]:
        raw = (one / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM
        raw.decode("ascii")  # plain ASCII: any spreadsheet code page shows it right
        assert b"\r" not in raw and b";" not in raw.split(b"\n")[0]
        cols = pd.read_csv(one / name, nrows=0).columns
        assert not cols[0].startswith("Unnamed")  # no index column
        mine = described[described["file"] == name]
        assert list(mine["column"]) == list(cols)
        assert (mine["meaning"].fillna("") != "").all()


def _html_cells(html: str) -> list[list[tuple[str, bool]]]:
    """Rows of (text, is_number) from LibreOffice's HTML export (numbers carry sdval)."""
    rows = []
    for tr in re.findall(r"<tr.*?</tr>", html, re.S):
        cells = re.findall(r"<td([^>]*)>(.*?)</td>", tr, re.S)
        rows.append([(re.sub("<[^>]+>", "", c).strip(), "sdval" in a) for a, c in cells])
    return rows


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_same_numbers(one: Path, tmp_path: Path) -> None:
    shutil.copy(one / "reps.csv", tmp_path / "reps.csv")
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "html", "--outdir", str(tmp_path), str(tmp_path / "reps.csv")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    rows = _html_cells((tmp_path / "reps.html").read_text("utf-8", errors="replace"))
    mine = pd.read_csv(one / "reps.csv")
    assert [text for text, _ in rows[0]] == list(mine.columns)
    assert len(rows) == 1 + len(mine)
    for k, col in enumerate(mine.columns):
        if col in ("rep", "t_end", "hip_flexion_peak", "lumbar_flexion_max", "score"):
            # Every value arrives as a number ('.' read as the decimal point), unchanged.
            values = [rows[1 + i][k] for i in range(len(mine))]
            assert all(is_num for _, is_num in values), col
            np.testing.assert_allclose([float(t) for t, _ in values], mine[col].to_numpy(float))


def test_progress_across_sessions(recs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "progress"
    assert main(["report", *map(str, recs), "--out", str(out), "--no-png"]) == 0
    pdf = PdfReader(out / "report.pdf")
    assert len(pdf.pages) == 1 + 5 + 5
    assert "Progress across 2 sessions" in pdf.pages[0].extract_text()
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2
    for rec, (_, row) in zip(recs, summary.iterrows(), strict=True):
        session = analyse(rec)
        assert row["reps"] == len(session.reps)
        assert row["source"] == str(rec)
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(folders) == 2
    for f in folders:
        assert sorted(p.name for p in f.iterdir()) == ["angles.csv", "reps.csv", "summary.csv"]


def test_own_rules_change_the_verdicts(recs: list[Path], tmp_path: Path) -> None:
    from hinge_imu.core.rules import default_rules_text

    rules = tmp_path / "lenient.toml"
    text = default_rules_text().replace(
        '{ metric = "lumbar_flexion_max", op = ">", threshold = 20.0 }',
        '{ metric = "lumbar_flexion_max", op = ">", threshold = 90.0 }',
    )
    rules.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", str(recs[0]), "--rules", str(rules), "--out", str(out), "--no-png"]) == 0
    reps = pd.read_csv(out / "reps.csv")
    assert (reps["back_rounded"] == False).all()  # noqa: E712
    summary = pd.read_csv(out / "summary.csv")
    assert summary["back_rounded_count"].iloc[0] == 0
    assert str(rules) in summary["rules"].iloc[0]


def _run_bad(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_input_writes_nothing(
    recs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n0.0,pelvis,1,2,x,4,5,6\n")
    out = tmp_path / "out"
    # A good recording and a bad one: the bad one is found before anything is written.
    err = _run_bad([str(recs[0]), str(bad), "--out", str(out)], capsys)
    assert str(bad) in err and ":2" in err
    assert not out.exists()

    rules = tmp_path / "rules.toml"
    rules.write_text('format = "hinge-imu rules v1"\n[rules.nonsense]\nweight = 1\n')
    err = _run_bad([str(recs[0]), "--rules", str(rules), "--out", str(out)], capsys)
    assert str(rules) in err and "nonsense" in err
    assert not out.exists()

    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    err = _run_bad([str(recs[0]), "--out", str(a_file)], capsys)
    assert "not a folder" in err
    assert a_file.read_text() == "keep me"

    err = _run_bad([str(tmp_path / "missing.csv"), "--out", str(out)], capsys)
    assert "missing.csv" in err
    assert not out.exists()


def test_a_folder_gives_its_recordings_in_name_order(tmp_path: Path) -> None:
    from hinge_imu.commands.report import _expand
    from hinge_imu.errors import HingeImuError

    for name in ["b.csv.gz", "a.csv", "a.truth_angles.csv", "a.reps.csv", "notes.txt"]:
        (tmp_path / name).write_text("x")
    assert [p.name for p in _expand([str(tmp_path)])] == ["a.csv", "b.csv.gz"]
    assert _expand(["x.csv", str(tmp_path)])[0] == Path("x.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(HingeImuError, match="no recordings"):
        _expand([str(empty)])


def test_the_report_never_imports_pandas(tmp_path: Path) -> None:
    # pandas takes ~0.3 s to import, a tenth of a 5-minute session's report
    rec = Path(__file__).resolve().parent.parent / "recordings" / "sim_mistakes_set.csv.gz"
    args = ["report", str(rec), "--out", str(tmp_path / "r"), "--no-png"]
    code = (
        f"import sys; from hinge_imu.cli import main; rc = main({args!r}); "
        "print(rc, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["0", "False"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(["report.pdf", *CSVS])
