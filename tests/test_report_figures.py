"""What the report's figures and exports show, checked on their content.

Sessions come from the real analysis of SIMULATED recordings (in memory).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from hinge_imu.core.pipeline import analyse
from hinge_imu.core.results import Session
from hinge_imu.report import compare, exports, plots, tables
from hinge_imu.report.build import session_folders
from hinge_imu.report.style import BAD, RULE_LABELS, rep_status
from hinge_imu.samples import Recording
from hinge_imu.sim import SimConfig, simulate

MISTAKES: list[dict[str, float | None]] = [
    {},
    {"back_rounded": None},
    {},
    {"squatting": None},
    {"knees_caving": None},
    {},
]


@pytest.fixture(scope="module")
def recording() -> Recording:
    return simulate(
        SimConfig.preset("clean", reps=len(MISTAKES), mistakes=MISTAKES, seed=21)
    ).recording


@pytest.fixture(scope="module")
def session(recording: Recording) -> Session:
    return analyse(recording)


@pytest.fixture(scope="module")
def no_upper_back(recording: Recording) -> Session:
    sensors = {k: v for k, v in recording.sensors.items() if k != "upper_back"}
    return analyse(dataclasses.replace(recording, sensors=sensors))


def _texts(fig: Figure) -> str:
    parts = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        parts += [t.get_text() for t in ax.texts]
        parts += [ax.get_title(loc) for loc in ("left", "center")]
    return "\n".join(parts)


def _all_figures(s: Session) -> list[Figure]:
    return [
        plots.timeline_figure(s),
        plots.reps_overlay_figure(s),
        plots.scores_figure(s),
        tables.quality_figure(s),
        *tables.rep_table_figures(s),
    ]


def test_simulated_label_on_every_figure_and_only_then(session: Session) -> None:
    assert session.is_simulated
    for fig in _all_figures(session):
        assert "SIMULATED DATA" in _texts(fig)
    real_looking = dataclasses.replace(session, header={"session": "clinic"})
    for fig in _all_figures(real_looking):
        assert "SIMULATED" not in _texts(fig)


def test_rep_table_shows_value_and_excess_of_every_fired_rule(session: Session) -> None:
    (fig,) = tables.rep_table_figures(session)
    cells = fig.axes[0].tables[0].get_celld()
    header = {
        c: cells[0, c].get_text().get_text() for c in range(len(cells) // (len(session.reps) + 1))
    }
    fired_cells = 0
    for i, rep in enumerate(session.reps, start=1):
        assert cells[i, 0].get_text().get_text() == str(rep.rep)
        for col, head in header.items():
            if col < 2:
                continue
            rule_id = next(r for r, label in RULE_LABELS.items() if head.startswith(label + "\n"))
            text = cells[i, col].get_text().get_text()
            verdict = rep.judgement[rule_id]
            red = cells[i, col].get_facecolor()[:3] != (1.0, 1.0, 1.0)
            if verdict.fired and f"{verdict.threshold:g}°" in head:
                value = rep.metrics.get(verdict.condition.split(" ")[0])
                assert value is not None
                assert text.startswith(f"{value:.1f}")
                assert f"(+{verdict.excess_deg:.1f})" in text
                assert red
                fired_cells += 1
            elif verdict.fired is False:
                assert "(+" not in text
    assert fired_cells >= sum(len(r.judgement.mistakes) for r in session.reps)
    assert fired_cells >= 3  # back rounded, squatting, knees caving were injected


def test_timeline_marks_every_mistake(session: Session) -> None:
    fig = plots.timeline_figure(session)
    strip = fig.axes[0]
    fired = {m for r in session.reps for m in r.judgement.mistakes}
    labels = {t.get_text() for t in strip.get_yticklabels()}
    assert labels == {RULE_LABELS[m] for m in fired}
    markers = [ln for ln in strip.get_lines() if ln.get_marker() == "v"]
    assert len(markers) == sum(len(r.judgement.mistakes) for r in session.reps)
    # Thresholds are drawn where they apply: back rounded on the lumbar panel.
    lumbar = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("Lower-back"))
    assert any("Back rounded > 20°" in t.get_text() for t in lumbar.texts)


def test_mistake_is_marked_where_its_condition_first_held(session: Session) -> None:
    t = session.angles["t_s"].to_numpy()
    lumbar = session.angles["lumbar_flexion_deg"].to_numpy()
    checked = 0
    for rep in session.reps:
        if rep.judgement["back_rounded"].fired:
            t_fire = plots.fired_time_s(session, rep, "back_rounded")
            i = int(np.searchsorted(t, t_fire))
            assert rep.metrics.t_start <= t_fire <= rep.metrics.t_end
            assert lumbar[i] > 20 and (lumbar[rep.bounds.start : i] <= 20).all()
            checked += 1
        if rep.judgement["no_lockout"].fired:
            assert plots.fired_time_s(session, rep, "no_lockout") == rep.metrics.t_end
    assert checked >= 1


def test_long_sessions_split_between_reps(session: Session) -> None:
    t = session.angles["t_s"]
    windows = plots.timeline_windows(session, page_s=12.0)
    assert len(windows) >= 3
    assert windows[0][0] == t.iloc[0] and windows[-1][1] == t.iloc[-1]
    for (_, a_end), (b_start, _) in itertools.pairwise(windows):
        assert a_end == b_start  # contiguous
        assert not any(r.metrics.t_start < a_end < r.metrics.t_end for r in session.reps)
    assert all(w1 - w0 <= 12.0 for w0, w1 in windows)
    figs = plots.timeline_figures(session, page_s=12.0)
    assert len(figs) == len(windows)
    assert f"part 2 of {len(windows)}" in figs[1]._suptitle.get_text()
    assert figs[1].axes[-1].get_xlim() == pytest.approx(windows[1])


def test_overlay_tells_flagged_reps_apart(session: Session) -> None:
    fig = plots.reps_overlay_figure(session)
    hip = fig.axes[0]
    curves = [ln for ln in hip.get_lines() if len(ln.get_xdata()) > 2]
    assert len(curves) == len(session.reps)
    bad = [ln for ln in curves if ln.get_color() == BAD]
    assert len(bad) == sum(rep_status(r) == "bad" for r in session.reps) >= 2
    for ln in curves:
        x = np.asarray(ln.get_xdata())
        assert x[0] == 0 and x[-1] == pytest.approx(100)
    # A rounded back is named on the lumbar panel, at its peak, and nowhere else.
    lumbar = fig.axes[1]
    for rep in session.reps:
        label = f"rep {rep.rep}"
        on_lumbar = [t for t in lumbar.texts if t.get_text() == label]
        if rep.judgement["back_rounded"].fired:
            (text,) = on_lumbar
            assert text.xy[1] == pytest.approx(rep.metrics.lumbar_flexion_max, abs=1e-6)
            assert label not in [t.get_text() for t in hip.texts]
        elif not rep.judgement.mistakes:
            assert on_lumbar == []


def test_missing_sensor_is_shown_as_not_assessed(no_upper_back: Session) -> None:
    s = no_upper_back
    assert s.missing_sensors == ("upper_back",)
    fig = plots.timeline_figure(s)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert not any(t.startswith("Lower-back") for t in titles)
    assert "Lower-back (lumbar) flexion" in _texts(fig)  # named as not measured
    assert "upper back" in _texts(tables.quality_figure(s))
    (table_fig,) = tables.rep_table_figures(s)
    heads = [
        c.get_text().get_text()
        for (r, _), c in table_fig.axes[0].tables[0].get_celld().items()
        if r == 0
    ]
    assert not any(h.startswith("Back rounded") for h in heads)
    row = exports.summary_row(s)
    assert row["back_rounded_count"] is None and row["back_rounded_assessed"] == 0
    assert row["hip_flexion_peak_mean_deg"] is not None


def test_angles_export_never_bridges_a_gap(session: Session) -> None:
    angles = session.angles.copy()
    t = angles["t_s"].to_numpy()
    gap = (t > 5.0) & (t < 6.0)
    angles.loc[gap, "hip_flexion_deg"] = np.nan
    out = exports.angles_frame(dataclasses.replace(session, angles=angles), rate_hz=20)
    inside = (out["t_s"] > 5.0) & (out["t_s"] < 6.0)
    assert out.loc[inside, "hip_flexion_deg"].isna().all()
    assert out.loc[~inside, "hip_flexion_deg"].notna().mean() > 0.99
    np.testing.assert_allclose(np.diff(out["t_s"]), 0.05, atol=1e-9)


def test_rep_table_continues_on_more_pages(session: Session) -> None:
    many = dataclasses.replace(session, reps=session.reps * 7)
    figs = tables.rep_table_figures(many)
    assert len(figs) == math.ceil(len(many.reps) / tables.REPS_PER_PAGE)
    rows = sum(len({r for r, _ in f.axes[0].tables[0].get_celld()}) - 1 for f in figs)
    assert rows == len(many.reps)


def test_progress_page_counts(session: Session, no_upper_back: Session) -> None:
    fig = compare.progress_figure([session, no_upper_back])
    heat = fig.axes[1]
    cells = {
        (round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in heat.texts
    }
    rules = [r for r in session.rules.rules if r.observable]
    i = next(k for k, r in enumerate(rules) if r.rule_id == "back_rounded")
    judged = [r for r in session.reps if r.judged]
    fired = sum(bool(r.judgement["back_rounded"].fired) for r in judged)
    assert cells[(0, i)] == f"{fired}/{len(judged)}"
    assert cells[(1, i)] == "–"  # no upper back in session 2: not assessed
    assert "SIMULATED DATA" in _texts(fig)


def test_session_folders_are_unique_and_safe(session: Session) -> None:
    odd = dataclasses.replace(session, header={"session": "week 1/left: ../x"})
    folders = session_folders([session, session, odd])
    assert len(set(folders)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", f) and not f.startswith(".") for f in folders)


def test_ascii_text() -> None:
    assert exports.ascii_text("stance 0.8 s − only ≥ 1 °") == "stance 0.8 s - only >= 1  deg"
    assert exports.ascii_text("Übung für Zoë, 2 µT") == "Ubung fur Zoe, 2 uT"
    assert exports.ascii_text("训练") == "??"
