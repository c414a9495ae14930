"""Outputs appear whole under their final name, or not at all."""

from __future__ import annotations

import pytest

from hinge_imu.atomic import atomic_write


def test_complete_write_replaces_the_file(tmp_path):
    target = tmp_path / "out" / "reps.csv"
    with atomic_write(target) as fh:
        fh.write("rep\n1\n")
    assert target.read_text() == "rep\n1\n"
    assert [p.name for p in target.parent.iterdir()] == ["reps.csv"]


def test_failure_midway_leaves_old_content_and_no_temp_file(tmp_path):
    target = tmp_path / "reps.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half a fi")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["reps.csv"]
