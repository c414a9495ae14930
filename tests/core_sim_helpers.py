"""Shared helpers of the analysis tests: simulated recordings (SIMULATED data)."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from hinge_imu.sim import SimConfig, simulate


@lru_cache(maxsize=32)
def _sim_cached(preset: str, key: tuple[tuple[str, Any], ...], imp: tuple[tuple[str, Any], ...]):
    cfg = SimConfig.preset(preset, **dict(key))
    if imp:
        cfg = replace(cfg, imperfections=replace(cfg.imperfections, **dict(imp)))
    return simulate(cfg)


def sim(preset: str = "typical", imperfections: dict[str, Any] | None = None, **kw: Any):
    """A simulated session (cached per arguments): ``.recording``, ``.truth``."""
    key = tuple(sorted((k, _freeze(v)) for k, v in kw.items()))
    imp = tuple(sorted((imperfections or {}).items()))
    return _sim_cached(preset, key, imp)


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return _FrozenDict(v)
    return v


class _FrozenDict(dict):  # type: ignore[type-arg]
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def matched(session, truth_reps, tol_s: float = 0.6):
    """Pairs (estimated rep, true rep dict) matched by bottom time."""
    out = []
    for tr in truth_reps:
        best = min(session.reps, key=lambda r: abs(r.metrics.t_bottom - tr["t_bottom"]))
        if abs(best.metrics.t_bottom - tr["t_bottom"]) < tol_s:
            out.append((best, tr))
    return out


def clipped(rec, sensor: str, t_from_s: float, dur_s: float, channel: str, value: float):
    """``rec`` with one channel of ``sensor`` held at ``value`` (a range limit) for ``dur_s``.

    ``channel``: ``acc_x`` … ``gyr_z``; ``value`` in m/s² or deg/s. What a
    sensor knocked past its range reports (e.g. the bar hitting the thigh).
    """

    s = rec.sensors[sensor]
    kind, axis = channel.split("_")
    held = (s.t_s >= t_from_s) & (s.t_s < t_from_s + dur_s)
    values = (s.acc_mps2 if kind == "acc" else s.gyr_dps).copy()
    values[held, "xyz".index(axis)] = value
    field = "acc_mps2" if kind == "acc" else "gyr_dps"
    return replace(rec, sensors={**rec.sensors, sensor: replace(s, **{field: values})})


@lru_cache(maxsize=4)
def warming(seed: int = 3):
    """A 2-minute ``real`` session (3 sets of 5) whose gyros warm up strongly.

    Each gyro axis drifts by 1–2 °/s, 95 % of it within 150 s (the ``real``
    preset: 0.5–1.5 °/s over 10 min), so the bias taken at the opening
    stance is 1–2 °/s off by the last set. No strap slip, no lost data, no
    skin movement: the angles' error is the drift's. SIMULATED.
    """
    from hinge_imu.sim.config import IMPERFECTION_PRESETS, without

    imp = replace(
        without(IMPERFECTION_PRESETS["real"], ["slip", "loss", "soft_tissue"]),
        gyr_warmup_dps=(1.0, 2.0),
        gyr_warmup_s=150.0,
    )
    cfg = SimConfig.preset(
        "real",
        seed=seed,
        mounting="arbitrary",
        imperfections=imp,
        sets=3,
        reps=5,
        stance_kind="still",
    )
    return simulate(cfg)


def true_gyro_bias_dps(s, sensor: str, t_s: float):
    """The simulated gyro's true bias (3,) deg/s at ``t_s``: constant + warm-up."""
    import numpy as np

    e = s.truth["sensors"][sensor]["errors"]
    rise = 1.0 - np.exp(-t_s / e["gyr_warmup_tau_s"])
    return np.asarray(e["gyr_bias_dps"]) + rise * np.asarray(e["gyr_warmup_dps"])
