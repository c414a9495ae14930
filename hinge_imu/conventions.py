"""Names, frames, units and sign conventions shared by every module.

The full written guide is ``docs/conventions.md``; this module is its code
form. Nothing here imports anything else from the package.

Summary (see the doc for the reasoning):

* Units: time in s, acceleration (specific force) in m/s², angular rate in
  deg/s in files and public APIs, rad/s only inside orientation code (names
  say ``_rps``), angles in degrees (``_deg``), magnetic field in µT.
* Quaternions: Hamilton, scalar first ``[w, x, y, z]``, unit norm, and
  ``q_earth_sensor`` rotates a vector from the sensor frame into the earth
  frame: ``v_earth = q ⊗ v_sensor ⊗ q*`` (the convention of ``vqf``).
* Earth frame: z up (against gravity); heading (x, y) arbitrary.
* Body (anatomical) frame of a segment, fixed at the calibration stance:
  x anterior, y left, z superior (right-handed). Forward (sagittal) flexion
  is a positive rotation about +y.
* Intervals of samples are half-open ``[start, end)`` indices.
"""

from __future__ import annotations

from typing import Final

GRAVITY_MPS2: Final = 9.80665

#: Sensor (segment) names allowed in a recording, in report order.
REQUIRED_SENSOR: Final = "pelvis"
CORE_SENSORS: Final = ("thigh", "pelvis", "upper_back")
OPTIONAL_SENSORS: Final = ("head", "shank", "foot")
SENSOR_NAMES: Final = CORE_SENSORS + OPTIONAL_SENSORS

#: Columns of the recording table (docs/recording-format.md).
ACC_COLS: Final = ("acc_x", "acc_y", "acc_z")  # m/s², sensor frame
GYR_COLS: Final = ("gyr_x", "gyr_y", "gyr_z")  # deg/s, sensor frame
MAG_COLS: Final = ("mag_x", "mag_y", "mag_z")  # µT, sensor frame
REQUIRED_COLUMNS: Final = ("t", "sensor", *ACC_COLS, *GYR_COLS)
OPTIONAL_COLUMNS: Final = (*MAG_COLS, "seq")
RECORDING_MAGIC: Final = "# hinge-imu recording v1"

#: Angle names of docs/rules.md, all in degrees, all 0 at the calibration stance.
ANGLE_NAMES: Final = (
    "hip_flexion",
    "trunk_inclination",
    "pelvic_tilt",
    "lumbar_flexion",
    "thigh_inclination",
    "knee_cave",
    "head_extension",
)

#: Which sensors each angle needs.
ANGLE_SENSORS: Final[dict[str, tuple[str, ...]]] = {
    "pelvic_tilt": ("pelvis",),
    "trunk_inclination": ("upper_back",),
    "lumbar_flexion": ("pelvis", "upper_back"),
    "thigh_inclination": ("thigh",),
    "hip_flexion": ("pelvis", "thigh"),
    "knee_cave": ("thigh",),
    "head_extension": ("head", "upper_back"),
}

#: Rep-report metric columns (docs/outputs.md), in contract order.
REP_METRICS: Final = (
    "hip_flexion_peak",
    "trunk_inclination_peak",
    "lumbar_flexion_max",
    "lumbar_flexion_min",
    "pelvic_tilt_lockout",
    "hip_flexion_lockout",
    "thigh_inclination_bottom",
    "knee_cave",
    "head_extension_max",
)

#: Rule ids in the order of docs/rules.md.
RULE_IDS: Final = (
    "back_rounded",
    "back_arched",
    "no_lockout",
    "knees_locked",
    "knees_forward",
    "knees_caving",
    "tripod_foot",
    "shallow_hinge",
    "ribs_flared",
    "neck_extended",
    "squatting",
)

#: Which side the thigh sensor is on when the header does not say.
DEFAULT_SIDE: Final = "right"

#: Endings of a recording file (docs/recording-format.md), longest first.
RECORDING_SUFFIXES: Final = (".csv.gz", ".csv")


def recording_stem(name: str) -> str | None:
    """A recording file name without its ending (``s.csv.gz`` → ``s``); None for another."""
    for suffix in RECORDING_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None
