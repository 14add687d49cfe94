"""Fall detection from a wrist, waist or pendant accelerometer, streaming and causal.

Pipeline per device (see ``docs/fall-detection.md`` for the method and its evaluation):

1. **Resample** each burst to the working rate (20 Hz) by causal block aggregation
   (:mod:`hub.detect.resample`); bins do not depend on how the stream was cut into bursts.
2. **Impact**: a bin whose mean ``|a|`` reaches ``trigger_g`` and is the largest within
   ``sep_s`` on both sides is a candidate.
3. **Confirmation window**: ``post_s[1]`` seconds after the peak the candidate's
   orientation-agnostic features (:mod:`hub.detect.fall_features`: impact, free fall,
   change of the gravity direction, stillness after the impact, length of the
   high-acceleration episode) are scored by small boosted trees
   (:mod:`hub.detect.fall_model`); a score at or above the threshold raises a ``fall``
   finding. **Where the device is worn** picks the trees and threshold: a wrist moves far
   more than a trunk, so each has its own model (:class:`PositionModel`); a device's
   position is told with :meth:`FallDetector.set_position` (the router takes it from the
   registry), and a device without one is scored by the default model.
4. **Follow-up** (:mod:`hub.detect.fall_followup`): ``long_lie`` when the person is not up
   after ``long_lie_s``, ``fall_recovered`` when they get up and move.

The shipped parameters (``fall_params.json``) were calibrated with subject-grouped data
from SisFall (Sucerquia et al., Sensors 17(1):198, 2017), UMAFall (Casilari et al.,
Procedia Computer Science 110, 2017) and FallAllD (Saleh et al., IEEE Sensors Journal
21(2), 2021); rerun with ``python -m training.calibrate_falls``.

Stream handling (per device, state never shared between devices):

- A burst whose ``t0`` is within ``max_jitter_s`` of where the previous one ended continues
  the stream. A forward gap, a clock that jumps backwards or a new rate **restarts** the
  signal windows: no fall can be confirmed until ``grace_period`` seconds of new data have
  arrived. An open fall follow-up survives a restart.
- Non-finite samples are ignored; a bin with no valid sample is missing, and a candidate
  whose windows miss a bin is not scored.
- Many devices at once (:meth:`FallDetector.update_many`): devices streaming in step are
  binned without per-sample index work, in chunks that stay in the CPU caches, and their
  bins kept in a per-device ring of the last window; only devices whose recent bins
  reached the trigger (or with an open fall) go on to the candidate, scoring and
  follow-up stage. The results are the same as device by device.
- Empty bursts are ignored. Rates outside 20–200 Hz and malformed arrays raise
  ``ValueError`` (the contract refuses them before they get here).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hub.detect import fall_followup as fu
from hub.detect.fall_features import (
    FEATURE_NAMES,
    Geometry,
    LogisticModel,
    find_candidates,
    n_expanded,
    window_features,
)
from hub.detect.fall_fleet import CHUNK, MAX_G, Fleet, Slow
from hub.detect.fall_model import BoostedTrees
from hub.detect.findings import Finding
from hub.detect.resample import N_CH, aggregate, empty_partial

HZ_RANGE = (20.0, 200.0)
PARAMS_FILE = "fall_params.json"
FallModel = LogisticModel | BoostedTrees
"""The learned stage: anything with ``score(features) -> [0, 1]`` of these two kinds."""
DEFAULT = "default"
"""Name of the model given to the constructor directly (devices without a position model)."""


@dataclass(frozen=True, slots=True)
class PositionModel:
    """The learned stage and alarm threshold for devices worn at some ``positions``
    (lower-case names such as ``"wrist"`` or ``"waist"``)."""

    name: str
    positions: tuple[str, ...]
    model: FallModel
    threshold: float


def _check_model(model: FallModel) -> None:
    if isinstance(model, LogisticModel):
        need = n_expanded(len(FEATURE_NAMES))
        if len(model.weights) != need or len(model.mean) != len(FEATURE_NAMES):
            raise ValueError(f"model has {len(model.weights)} weights, needs {need}")
    elif model.n_features != len(FEATURE_NAMES):
        raise ValueError(f"model has {model.n_features} features, needs {len(FEATURE_NAMES)}")


def _model_from_json(m: Mapping[str, Any]) -> FallModel:
    if tuple(m.get("features", FEATURE_NAMES)) != FEATURE_NAMES:
        raise ValueError("parameter file was made for other features")
    if m.get("kind") == "boosted_trees":
        return BoostedTrees.from_json(m, len(FEATURE_NAMES))
    return LogisticModel(tuple(m["mean"]), tuple(m["scale"]), tuple(m["weights"]), float(m["bias"]))


def load_shipped_params() -> dict[str, Any]:
    """The versioned parameter file shipped inside the package (a package resource)."""
    text = resources.files("hub.detect").joinpath(PARAMS_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class FallDetector:
    """Streaming fall detector for any number of devices (state keyed by device id).

    ``model`` and ``threshold`` score devices whose position has no model of its own;
    ``position_models`` the others.

    Examples
    --------
    >>> det = FallDetector.shipped()
    >>> det.set_position("w-1", "wrist")
    >>> det.update("w-1", 1.7e9, 50.0, np.tile([0.0, 0.0, 1.0], (50, 1)))
    []
    >>> det.model_of("w-1"), det.model_of("unknown")
    ('wrist', 'wrist')
    """

    def __init__(
        self,
        model: FallModel,
        threshold: float,
        *,
        position_models: Sequence[PositionModel] = (),
        default_name: str = DEFAULT,
        trigger_g: float = 1.5,
        working_hz: float = 20.0,
        pre_s: tuple[float, float] = (1.5, 0.5),
        post_s: tuple[float, float] = (0.5, 1.5),
        sep_s: float = 1.0,
        grace_period: float | None = None,
        max_jitter_s: float = 0.05,
        long_lie_s: float = 60.0,
        recover_s: float = 4.0,
        walk_std_g: float = 0.12,
        still_std_g: float = 0.04,
    ) -> None:
        _check_model(model)
        self.model = model
        self.threshold = threshold
        # Index 0 is the default; a position maps to the index of its model.
        self.models: list[PositionModel] = [PositionModel(default_name, (), model, threshold)]
        self._by_position: dict[str, int] = {}
        for pm in position_models:
            _check_model(pm.model)
            idx = 0 if pm.model is model and pm.threshold == threshold else len(self.models)
            if idx:
                self.models.append(pm)
            for pos in pm.positions:
                if pos.lower() in self._by_position:
                    raise ValueError(f"position {pos!r} has two models")
                self._by_position[pos.lower()] = idx
        self._model_of: dict[str, int] = {}
        self.trigger_g = trigger_g
        self.working_hz = working_hz
        self.pre_s = pre_s
        self.post_s = post_s
        self.sep_s = sep_s
        self.geometry = Geometry.from_seconds(working_hz, pre_s, post_s, sep_s)
        minimum = self.geometry.history / working_hz
        self.grace_period = minimum if grace_period is None else max(grace_period, minimum)
        self.max_jitter_s = max_jitter_s
        self.rules = fu.FollowUpRules(working_hz, long_lie_s, recover_s, walk_std_g, still_std_g)
        self._fleet = Fleet(working_hz, self.geometry.history, self.geometry.delay, trigger_g)
        self._follow: dict[int, fu.FollowUp] = {}

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_params(cls, params: Mapping[str, Any], **overrides: Any) -> FallDetector:
        """Build from a parameter document.

        Either one model for every device (``{"params": {..., "threshold"}, "model": {...}}``)
        or one per position: ``"models": {name: {"positions": [...], "threshold": t,
        "model": {...}}}`` with ``"default_model"`` naming the one for devices without a
        position model.
        """
        kw: dict[str, Any] = dict(params["params"])
        for key in ("pre_s", "post_s"):
            if key in kw:
                kw[key] = tuple(kw[key])
        kw.update(overrides)
        if "models" not in params:
            threshold = kw.pop("threshold")
            return cls(_model_from_json(params["model"]), float(threshold), **kw)
        kw.pop("threshold", None)
        pms = [
            PositionModel(
                name,
                tuple(p.lower() for p in doc.get("positions", ())),
                _model_from_json(doc["model"]),
                float(doc["threshold"]),
            )
            for name, doc in params["models"].items()
        ]
        default = params.get("default_model", pms[0].name)
        first = next((pm for pm in pms if pm.name == default), None)
        if first is None:
            raise ValueError(f"default model {default!r} is not in the parameter file")
        return cls(first.model, first.threshold, position_models=pms, default_name=default, **kw)

    @classmethod
    def shipped(cls, **overrides: Any) -> FallDetector:
        """The detector with the shipped, calibrated parameters."""
        return cls.from_params(load_shipped_params(), **overrides)

    def set_position(self, device_id: str, position: str | None) -> None:
        """Where a device is worn (``"wrist"``, ``"waist"``...; ``None``: not known). Picks
        the model its candidates are scored with from the next candidate on; a position
        without a model of its own takes the default. Kept across :meth:`forget` (it is
        configuration, not stream state)."""
        idx = self._by_position.get(position.lower(), 0) if position else 0
        if idx:
            self._model_of[device_id] = idx
        else:
            self._model_of.pop(device_id, None)

    def set_positions(self, positions: Iterable[tuple[str, str | None]]) -> None:
        """:meth:`set_position` for many ``(device_id, position)`` pairs."""
        for device_id, position in positions:
            self.set_position(device_id, position)

    def model_of(self, device_id: str) -> str:
        """Name of the model that scores a device's candidates."""
        return self.models[self._model_of.get(device_id, 0)].name

    def forget(self, device_id: str) -> None:
        """Drop all stream state of a device (e.g. it was unbound from its resident)."""
        row = self._fleet.forget(device_id)
        if row is not None:
            self._follow.pop(row, None)

    @property
    def devices(self) -> int:
        """Number of devices with state."""
        return len(self._fleet.index)

    def in_follow_up(self, device_id: str) -> bool:
        """Whether a fall of this device is still being followed (not up yet)."""
        row = self._fleet.index.get(device_id)
        return row is not None and row in self._follow

    # --- offline inspection (calibration) ---------------------------------------------

    def candidates(
        self, hz: float, samples: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Scored-to-be candidates of one whole recording streamed from a fresh state.

        Returns the decision times (s from the first sample) and the feature matrix of every
        candidate the streaming path would score, in the same order. Calibration uses it;
        it runs the same functions as :meth:`update` on the recording as one burst.
        """
        x = np.clip(np.asarray(samples, dtype=np.float64), -MAX_G, MAX_G)[None]
        geo = self.geometry
        h, delay = geo.history, geo.delay
        zero = np.zeros(1, dtype=np.int64)
        bins, _, _ = aggregate(x, zero, zero, empty_partial(1), hz, self.working_hz)
        joined = np.concatenate([np.full((1, h, bins.shape[2]), np.nan), bins], axis=1)
        _, k_idx, win = find_candidates(
            joined, h - delay, h + bins.shape[1] - delay, self.trigger_g, geo
        )
        decision = k_idx + delay - h
        keep = decision >= round(self.grace_period * self.working_hz) - 1
        times = (decision[keep] + 1) / self.working_hz
        return times.astype(np.float64), window_features(win[keep], geo)

    # --- streaming --------------------------------------------------------------------

    def update(self, device_id: str, t0: float, hz: float, samples: ArrayLike) -> list[Finding]:
        """Consume one burst of ``(n, 3)`` samples in g starting at ``t0`` (epoch s)."""
        x = np.asarray(samples, dtype=np.float64)
        if x.size == 0:
            return []
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"samples must have shape (n, 3), not {x.shape}")
        return self.update_many([device_id], np.array([t0], dtype=np.float64), hz, x[None])

    def update_many(
        self, device_ids: Sequence[str], t0: ArrayLike, hz: float, samples: ArrayLike
    ) -> list[Finding]:
        """Consume one burst per device at once: ``samples`` is ``(D, n, 3)``, one ``t0`` each.

        All devices of one call share the rate and the burst length; this is the fast path
        for many devices (the results are the same as calling :meth:`update` per device).
        """
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 3 or x.shape[2] != 3 or x.shape[0] != len(device_ids):
            raise ValueError(f"samples must have shape ({len(device_ids)}, n, 3), not {x.shape}")
        if not (HZ_RANGE[0] <= hz <= HZ_RANGE[1]):
            raise ValueError(f"rate {hz!r} Hz is outside {HZ_RANGE[0]:g}-{HZ_RANGE[1]:g} Hz")
        if x.shape[0] == 0 or x.shape[1] == 0:
            return []
        starts = np.broadcast_to(np.asarray(t0, dtype=np.float64), (x.shape[0],))
        if not np.isfinite(starts).all():
            raise ValueError("t0 must be a finite time")
        fl = self._fleet
        rows, span = fl.rows(device_ids)
        sel: slice | NDArray[np.int64] = rows if span is None else span
        live, rate = fl.live[sel], fl.hz[sel]
        expected = fl.anchor[sel] + fl.count[sel] / np.where(live, rate, 1.0)
        restart = ~live | (rate != hz) | ~(np.abs(starts - expected) <= self.max_jitter_s)
        if restart.any():
            fl.restart(rows[restart], starts[restart], hz)
        slow: list[Slow] = []
        for lo in range(0, len(rows), CHUNK):
            hi = min(lo + CHUNK, len(rows))
            part = slice(sel.start + lo, sel.start + hi) if isinstance(sel, slice) else rows[lo:hi]
            slow += fl.advance(rows[lo:hi], part, x[lo:hi], hz)
        return self._events(slow, hz)

    def _events(self, slow: list[Slow], hz: float) -> list[Finding]:
        """Score the candidates of all chunks' hot devices at once, then run alarms and
        follow-ups device by device (in call order)."""
        if not slow:
            return []
        h = self.geometry.history
        width = max(c.new.shape[1] for c in slow)
        n = sum(len(c.row) for c in slow)
        joined = np.full((n, h + width, N_CH), np.nan)  # double precision from here
        at = 0
        for c in slow:
            joined[at : at + len(c.row), :h] = c.past
            joined[at : at + len(c.row), h : h + c.new.shape[1]] = c.new
            at += len(c.row)
        row = np.concatenate([c.row for c in slow])
        opened = np.concatenate([c.open for c in slow])
        done = np.concatenate([c.done for c in slow])
        hot = np.concatenate([c.hot for c in slow])
        alarms = self._score(joined[hot], opened[hot], np.flatnonzero(hot), row[hot])
        out: list[Finding] = []
        for i in np.flatnonzero(self._fleet.following[row] | np.isin(np.arange(n), list(alarms))):
            r = int(row[i])
            ends = self._fleet.anchor[r] + (opened[i] + np.arange(done[i]) + 1) / self.working_hz
            mags = joined[i, h : h + done[i], 3]
            out += self._device_events(r, mags, ends, alarms.get(int(i), {}), hz)
        return out

    def _score(
        self,
        joined: NDArray[np.float64],
        opened: NDArray[np.int64],
        which: NDArray[np.int64],
        rows: NDArray[np.int64],
    ) -> dict[int, dict[int, tuple[float, NDArray[np.float64]]]]:
        """Candidates in the ``(N, h + W, 5)`` history-and-new-bins of the devices that
        reached the trigger (state ``rows``), each scored by its device's model; alarms by
        ``which`` entry and new-bin index."""
        geo = self.geometry
        h, delay = geo.history, geo.delay
        alarms: dict[int, dict[int, tuple[float, NDArray[np.float64]]]] = {}
        if len(joined) == 0:
            return alarms
        d_idx, k_idx, win = find_candidates(
            joined, h - delay, joined.shape[1] - delay, self.trigger_g, geo
        )
        decision = k_idx + delay - h  # index among this burst's new bins
        grace_bins = round(self.grace_period * self.working_hz)
        keep = opened[d_idx] + decision >= grace_bins - 1
        d_idx, decision, win = d_idx[keep], decision[keep], win[keep]
        if len(d_idx):
            feats = window_features(win, geo)
            scores = np.empty(len(d_idx))
            above = np.zeros(len(d_idx), dtype=bool)
            ids = self._fleet.ids
            of = np.array([self._model_of.get(ids[r], 0) for r in rows[d_idx].tolist()])
            for m in np.unique(of).tolist():
                sel = of == m
                pm = self.models[m]
                scores[sel] = pm.model.score(feats[sel])
                above[sel] = scores[sel] >= pm.threshold
            for i in np.flatnonzero(above).tolist():
                dev = int(which[d_idx[i]])
                alarms.setdefault(dev, {})[int(decision[i])] = (float(scores[i]), win[i])
        return alarms

    def _device_events(
        self,
        row: int,
        mags: NDArray[np.float64],
        ends: NDArray[np.float64],
        alarms: dict[int, tuple[float, NDArray[np.float64]]],
        hz: float,
    ) -> list[Finding]:
        """Alarms and follow-up of one device over its new bins, in time order."""
        dev = self._fleet.ids[row]
        out: list[Finding] = []
        j = 0
        while j < len(mags):
            state = self._follow.get(row)
            nxt = min((k for k in alarms if k >= j), default=len(mags))
            if state is not None:
                found, over = fu.step(state, self.rules, dev, mags[j:nxt], ends[j:nxt])
                out += found
                if over:
                    del self._follow[row]
                    self._fleet.following[row] = False
                    # Continue right after the bin where recovery was recognised.
                    j = int(np.searchsorted(ends, found[-1].at)) + 1
                    continue
            if nxt >= len(mags):
                break
            if row not in self._follow:
                score, win = alarms[nxt]
                out.append(self._fall(dev, float(ends[nxt]), score, win, hz))
                self._follow[row] = fu.FollowUp(fall_at=float(ends[nxt]))
                self._fleet.following[row] = True
            j = nxt + 1
        return out

    def _fall(
        self, dev: str, at: float, score: float, win: NDArray[np.float64], hz: float
    ) -> Finding:
        geo = self.geometry
        feats = window_features(win[None], geo)[0]
        c = geo.pre[0]
        peak = float(win[c, 4])
        angle = float(np.degrees(np.arccos(feats[FEATURE_NAMES.index("cos_turn")])))
        post_std = float(np.exp(feats[FEATURE_NAMES.index("log_post_std")]) - 0.01)
        impact_at = at - geo.delay / self.working_hz
        still = post_std < 0.1
        zh_tail = "，随后静止" if still else ""
        en_tail = " followed by stillness" if still else ""
        return Finding(
            dev,
            "fall",
            "high",
            at,
            {
                "score": round(score, 4),
                "impact_g": round(peak, 3),
                "angle_deg": round(angle, 1),
                "post_std_g": round(post_std, 4),
                "impact_at": impact_at,
                "input_hz": hz,
                "model": self.model_of(dev),
                "source": "hub",
            },
            {
                "zh-CN": f"检测到跌倒：冲击 {peak:.1f} g，姿态变化 {angle:.0f}°{zh_tail}",
                "en": f"Fall detected: {peak:.1f} g impact, {angle:.0f}° turn{en_tail}",
            },
        )


__all__ = ["FallDetector", "PositionModel", "load_shipped_params"]
