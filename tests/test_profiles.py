"""Device profiles: loading, checking, command templates, advertisement matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hinge_imu.sensors.profiles import (
    ENV_DIR,
    ProfileError,
    list_profiles,
    load_profile,
    profile_for_advertisement,
    render_command,
)

VECTORS = Path(__file__).parent / "data" / "vectors"
REPO_CONFIG = Path(__file__).parents[1] / "firmware_config"


def test_all_four_profiles_load_with_consistent_defaults() -> None:
    assert {"custom", "movesense", "metamotion", "polar-verity"} <= set(list_profiles())
    for name in ("custom", "movesense", "metamotion", "polar-verity"):
        p = load_profile(name)
        assert p.name == name
        assert p.default_rate_hz in p.rates_hz
        assert p.gatt.data and p.gatt.service
        assert p.command_bytes("start") and p.command_bytes("stop")


def test_movesense_subscribe_is_the_documented_gsp_command() -> None:
    p = load_profile("movesense")
    assert p.command_bytes("start") == [b"\x01\x63/Meas/IMU6/104"]
    assert p.command_bytes("start", rate_hz=52) == [b"\x01\x63/Meas/IMU6/52"]
    assert p.command_bytes("stop") == [bytes([0x02, 0x63])]


def test_metamotion_commands_match_the_vendor_sdk_tests() -> None:
    vec = json.loads((VECTORS / "metamotion_vendor.json").read_text())
    p = load_profile("metamotion")
    for cmd in vec["commands"]:
        want = bytes.fromhex(cmd["hex"])
        got: list[bytes] = []
        # Render with the settings the SDK test used; every other setting at its default.
        for rate in p.rates_hz:
            if "rate_hz" in cmd and rate != cmd["rate_hz"]:
                continue
            got += p.command_bytes("start", rate, cmd.get("acc_range_g"), cmd.get("gyr_range_dps"))
        assert want in got, cmd["what"]


def test_polar_start_command_layout() -> None:
    p = load_profile("polar-verity")
    sdk, acc, gyr = p.command_bytes("start", rate_hz=104, acc_range_g=4, gyr_range_dps=500)
    assert sdk == bytes([0x02, 0x09])
    # op start, ACC, sample rate 104 (u16), resolution 16, range 4, channels 3
    assert acc == bytes.fromhex("02 02 00 01 68 00 01 01 10 00 02 01 04 00 04 01 03")
    assert gyr == bytes.fromhex("02 05 00 01 68 00 01 01 10 00 02 01 f4 01 04 01 03")


def test_custom_configure_command_carries_rate_and_scale_codes() -> None:
    p = load_profile("custom")
    cfg, start = p.command_bytes("start", rate_hz=200, acc_range_g=16, gyr_range_dps=500)
    assert cfg == bytes([0x01, 200, 0, 3, 2]) and start == b"\x02"


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"rate_hz": 55}, "rate 55 Hz not supported"),
        ({"acc_range_g": 3}, "accelerometer range 3 g not supported"),
        ({"gyr_range_dps": 100}, "gyroscope range 100 deg/s not supported"),
    ],
)
def test_unsupported_settings_are_refused(kw: dict[str, float], msg: str) -> None:
    with pytest.raises(ProfileError, match=msg):
        load_profile("custom").check_settings(
            kw.get("rate_hz"), kw.get("acc_range_g"), kw.get("gyr_range_dps")
        )


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown device profile 'nope'.*movesense"):
        load_profile("nope")


def test_render_command_placeholders_and_errors() -> None:
    vals = {"a": 0x1234, "f": 1.0, "rate_hz": 52}
    assert render_command("ff {a:u16} {f:f32}", vals) == bytes.fromhex("ff 34 12 00 00 80 3f")
    assert render_command('01 "/x/{rate_hz}"', vals) == b"\x01/x/52"
    with pytest.raises(ProfileError, match="no value for 'b'"):
        render_command("{b:u8}", vals)
    with pytest.raises(ProfileError, match="bad hex"):
        render_command("0g", vals)
    with pytest.raises(ProfileError, match="unknown placeholder type"):
        render_command("{a:u7}", vals)


@pytest.mark.parametrize(
    ("name", "uuids", "maker", "want"),
    [
        ("Movesense 174630000192", [], {}, "movesense"),
        ("", ["34802252-7185-4D5D-B431-630E7050E8F0"], {}, "movesense"),
        ("MetaWear", [], {}, "metamotion"),
        ("whatever", ["326a9000-85cb-9195-d9dd-464cfbbae75a"], {}, "metamotion"),
        ("Polar Sense B5A3A42F", [], {107: b"\x00"}, "polar-verity"),
        ("HingeIMU-07", [], {}, "custom"),
        ("Polar H10 12345678", [], {107: b"\x00"}, None),  # a heart-rate strap: no IMU stream
        ("Some headphones", ["0000180d-0000-1000-8000-00805f9b34fb"], {76: b"\x01"}, None),
    ],
)
def test_profile_for_advertisement(
    name: str, uuids: list[str], maker: dict[int, bytes], want: str | None
) -> None:
    got = profile_for_advertisement(name, uuids, maker)
    assert (got.name if got else None) == want


def _copy_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (REPO_CONFIG / f"{name}.toml").read_text()
    assert old in text
    (tmp_path / f"{name}.toml").write_text(text.replace(old, new))
    return tmp_path


def test_override_directory_takes_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy_with(tmp_path, "custom", 'title = "Custom sensor', 'title = "My board')
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    assert load_profile("custom").title.startswith("My board")
    assert load_profile("movesense").protocol == "gsp"  # the rest still come from the repo


@pytest.mark.parametrize(
    ("old", "new", "msg"),
    [
        ('protocol = "hinge_v1"', 'protocol = "zigbee"', "device.protocol 'zigbee' unknown"),
        ("default_rate_hz = 100", "default_rate_hz = 150", "rate 150 Hz not supported"),
        ('service = "b3a40000', 'service = "not-a-uuid', "is not a UUID"),
        ('stop = ["03"]', 'halt = ["03"]', "needs a 'stop' list"),
        ("rates_hz = [25, 50, 100, 200]", "rates_hz = 100", "settings.rates_hz must be a list"),
        ("[settings]", "[settings", "not valid TOML"),
    ],
)
def test_malformed_profile_gives_one_line_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, msg: str
) -> None:
    _copy_with(tmp_path, "custom", old, new)
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    with pytest.raises(ProfileError, match=msg) as info:
        load_profile("custom")
    text = str(info.value)
    assert "\n" not in text and str(tmp_path / "custom.toml") in text


def test_every_protocol_a_profile_may_name_has_a_decoder_and_an_encoder() -> None:
    from hinge_imu.sensors.profiles import PROTOCOLS as NAMES
    from hinge_imu.sensors.protocols import PROTOCOLS

    assert set(NAMES) == set(PROTOCOLS)
