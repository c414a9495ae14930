"""Saved sensor assignments (TOML in the user config dir); no Bluetooth needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hinge_imu.errors import HingeImuError
from hinge_imu.sensors.assignments import (
    assignments_path,
    config_dir,
    get_assignment,
    load_assignments,
    save_assignment,
)


def test_env_overrides_the_config_dir(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HINGE_IMU_CONFIG_DIR", str(tmp_path / "conf"))
    assert config_dir() == tmp_path / "conf"
    assert assignments_path() == tmp_path / "conf" / "assignments.toml"
    monkeypatch.delenv("HINGE_IMU_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if config_dir().parent == tmp_path / "xdg":  # not on Windows
        assert config_dir() == tmp_path / "xdg" / "hinge-imu"


def test_save_load_and_replace(tmp_path: Path):
    f = tmp_path / "a.toml"
    save_assignment("gym left", {"pelvis": "AA:BB:CC:DD:EE:01", "thigh": 'Odd "name"'}, f)
    save_assignment("home", {"pelvis": "Movesense 1", "side": "left"}, f)
    save_assignment("gym left", {"pelvis": "AA:BB:CC:DD:EE:09"}, f)  # replaced, others kept
    got = load_assignments(f)
    assert got == {
        "gym left": {"pelvis": "AA:BB:CC:DD:EE:09"},
        "home": {"pelvis": "Movesense 1", "side": "left"},
    }
    save_assignment("odd", {"pelvis": "x", "thigh": 'Odd "name" \\ 2'}, f)
    assert get_assignment("odd", f)["thigh"] == 'Odd "name" \\ 2'


def test_bad_files_and_names_give_one_line_errors(tmp_path: Path):
    f = tmp_path / "a.toml"
    assert load_assignments(f) == {}
    with pytest.raises(HingeImuError, match=r"no sensor assignment named 'x' \(saved: none"):
        get_assignment("x", f)
    f.write_text('[gym]\npelvis = "A"\nknee = "B"\n')
    with pytest.raises(HingeImuError, match=r"a\.toml: \[gym\] unknown key 'knee'"):
        load_assignments(f)
    f.write_text("[gym\n")
    with pytest.raises(HingeImuError, match=r"a\.toml:1: not valid TOML"):
        load_assignments(f)
    with pytest.raises(HingeImuError, match="must not contain"):
        save_assignment("a.b", {"pelvis": "A"}, tmp_path / "b.toml")
    assert not (tmp_path / "b.toml").exists()
