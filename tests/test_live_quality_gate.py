"""Data-quality gate: gaps, lost samples and stale sensors make a span unjudgeable."""

from __future__ import annotations

import numpy as np
import pytest

from hinge_imu.live.quality_gate import QualityGate


def feed(gate: QualityGate, sensor: str, t: np.ndarray, chunk: int = 7) -> None:
    for i in range(0, len(t), chunk):
        gate.update(sensor, t[i : i + chunk])


def test_clean_data_passes_and_a_gap_fails_only_where_it_is() -> None:
    gate = QualityGate()
    t = np.arange(0, 20, 0.01)
    feed(gate, "thigh", t)
    gapped = t[(t < 8.0) | (t > 8.4)]
    feed(gate, "pelvis", gapped)
    assert gate.check_span(1.0, 6.0) == ""
    assert gate.check_span(12.0, 19.0) == ""
    why = gate.check_span(7.0, 10.0)
    assert "pelvis lost 0.42 s of data at 7.99 s" in why and "thigh" not in why


def test_scattered_losses_count_as_lost_share() -> None:
    gate = QualityGate(max_lost_share=0.1)
    t = np.arange(0, 10, 0.005)
    keep = np.ones(len(t), bool)
    keep[5 * 200 : 7 * 200 : 3] = False  # a third of the samples, no long gap
    gate.add_sensor("pelvis", rate_hz=200.0)
    feed(gate, "pelvis", t[keep])
    assert gate.check_span(1.0, 4.0) == ""
    assert "lost 33%" in gate.check_span(5.0, 7.0)
    assert gate.rate_hz("pelvis") == 200.0  # nominal, for the expected count
    assert gate.measured_rate_hz("pelvis") == pytest.approx(200.0, rel=0.01)  # what arrives


def test_stale_sensor() -> None:
    gate = QualityGate(stale_after_s=0.3)
    t = np.arange(0, 10, 0.01)
    feed(gate, "pelvis", t)
    feed(gate, "upper_back", t[t < 6.0])
    assert gate.stale_sensors() == ("upper_back",)
    assert "upper_back stale" in gate.check_span(5.0, 8.0)


def test_memory_stays_bounded() -> None:
    gate = QualityGate(memory_s=10.0)
    for k in range(200):
        gate.update("pelvis", np.arange(k, k + 1, 0.005))
    kept = sum(len(c) for c in gate._tracks["pelvis"].chunks)
    assert kept <= 12 * 200
