"""Traffic forecasts (交通预测): 15/30/60-minute speed forecasts per segment or sensor.

A long table ``(sensor_id, ts, speed_kmh)`` on a 5-minute grid goes through
``series.prepare`` (bad records quarantined with a reason, gaps made explicit), then the
baselines in ``baselines`` (historical average, last value) or the learned model in ``model``
(gradient boosting on the features from ``features``), scored by ``metrics``.
"""

from __future__ import annotations

HORIZONS_MIN: tuple[int, ...] = (15, 30, 60)
"""The forecast horizons the traffic operations centre publishes, in minutes."""

STEP_MIN = 5
"""The series step: every kernel here assumes a regular 5-minute grid (``series.prepare`` makes one)."""
