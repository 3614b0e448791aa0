"""Configuration of the indicators: state breakpoints, fusion priors, the TPI mapping.

Everything here is data (plain dataclasses built from dicts), so an operator can replace the
breakpoints from a JSON file without touching code; ``IndicatorConfig.from_dict`` validates it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cityos.core.errors import FieldError, Invalid

ROAD_CLASSES: tuple[str, ...] = ("expressway", "arterial", "secondary", "branch")

# Segment states (路段交通状态), code 1 (best) … 5 (worst).
STATE_NAMES: tuple[str, ...] = ("畅通", "基本畅通", "轻度拥堵", "中度拥堵", "严重拥堵")
STATE_NAMES_EN: tuple[str, ...] = ("free", "basically free", "light", "moderate", "severe")

# Four descending speed breakpoints (km/h) per road class. A speed v is in state k+1 when
# b[k] < v <= b[k-1]; above b[0] is state 1, at or below b[3] state 5 (so 65 km/h on an
# expressway is 基本畅通 and 20 km/h is 严重拥堵: the upper end of each band is inclusive).
DEFAULT_BREAKPOINTS: dict[str, tuple[float, float, float, float]] = {
    "expressway": (65.0, 50.0, 35.0, 20.0),
    "arterial": (40.0, 30.0, 20.0, 15.0),
    "secondary": (35.0, 25.0, 15.0, 10.0),
    "branch": (35.0, 25.0, 15.0, 10.0),
}

# VKT-weighted congested-mileage ratio → TPI 0–10, piecewise linear (after Beijing DB11/T 785:
# each TPI band of width 2 covers a range of the congested-mileage ratio). Ratios above the last
# breakpoint give TPI 10.
DEFAULT_TPI_RATIOS: tuple[float, ...] = (0.0, 0.04, 0.08, 0.11, 0.14, 0.24)
DEFAULT_TPI_VALUES: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)

# A bin length is a fixed duration ("5m", "15m", "1h", "1d"): the kernels number bins by integer
# division of epoch microseconds, which is what Polars' truncate does for fixed durations.
_INTERVAL = re.compile(r"^([1-9][0-9]*)(s|m|h|d)$")
_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


@dataclass(frozen=True)
class SourcePrior:
    """What one observation of a source is worth when the bin holds too few to estimate it."""

    sd_kmh: float  # the least standard deviation of one observation (vehicle, point, feed value)


@dataclass(frozen=True)
class IndicatorConfig:
    interval: str = "5m"
    breakpoints: dict[str, tuple[float, float, float, float]] = field(default_factory=lambda: dict(DEFAULT_BREAKPOINTS))
    priors: dict[str, SourcePrior] = field(
        default_factory=lambda: {
            "probe": SourcePrior(sd_kmh=12.0),
            "loop": SourcePrior(sd_kmh=8.0),
            "nav": SourcePrior(sd_kmh=10.0),
        }
    )
    # Sources disagree when max−min of their bin means exceeds both thresholds.
    disagree_abs_kmh: float = 15.0
    disagree_rel: float = 0.35
    max_speed_kmh: float = 200.0
    # A segment counts towards the congested mileage from this state code on (中度拥堵).
    congested_from_state: int = 4
    tpi_ratios: tuple[float, ...] = DEFAULT_TPI_RATIOS
    tpi_values: tuple[float, ...] = DEFAULT_TPI_VALUES
    # Weight of a segment without a loop count in TTI and the congested ratio, per lane and bin.
    fallback_flow_per_lane: float = 50.0

    @property
    def interval_us(self) -> int:
        """The bin length in microseconds."""
        m = _INTERVAL.match(self.interval)
        if m is None:
            raise Invalid("The indicator configuration is not valid.", details=[_interval_error()])
        return int(m.group(1)) * _UNIT_US[m.group(2)]

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not isinstance(self.interval, str) or _INTERVAL.match(self.interval) is None:
            errors.append(_interval_error())
        for road_class in ROAD_CLASSES:
            bps = self.breakpoints.get(road_class)
            if bps is None or len(bps) != 4:
                errors.append(FieldError(f"breakpoints.{road_class}", "Four breakpoints are needed."))
            elif any(a <= b for a, b in zip(bps, bps[1:], strict=False)):
                errors.append(FieldError(f"breakpoints.{road_class}", "Breakpoints must strictly decrease."))
        if len(self.tpi_ratios) != len(self.tpi_values) or len(self.tpi_ratios) < 2:
            errors.append(FieldError("tpi_ratios", "TPI ratios and values must pair up."))
        elif any(a >= b for a, b in zip(self.tpi_ratios, self.tpi_ratios[1:], strict=False)):
            errors.append(FieldError("tpi_ratios", "TPI ratios must strictly increase."))
        if not 1 <= self.congested_from_state <= 5:
            errors.append(FieldError("congested_from_state", "A state code is 1 to 5."))
        for name in ("probe", "loop", "nav"):
            prior = self.priors.get(name)
            if prior is None or prior.sd_kmh <= 0:
                errors.append(FieldError(f"priors.{name}", "A positive prior deviation is needed."))
        if errors:
            raise Invalid("The indicator configuration is not valid.", details=errors)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndicatorConfig:
        """Build from JSON-like data; unknown keys are refused so a typo is not ignored."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise Invalid(
                "The indicator configuration is not valid.",
                details=[FieldError(k, "Unknown setting.") for k in unknown],
            )
        kwargs = dict(data)
        if "breakpoints" in kwargs:
            kwargs["breakpoints"] = {**DEFAULT_BREAKPOINTS, **{k: tuple(v) for k, v in kwargs["breakpoints"].items()}}
        if "priors" in kwargs:
            base = cls().priors
            kwargs["priors"] = {**base, **{k: SourcePrior(**v) for k, v in kwargs["priors"].items()}}
        for key in ("tpi_ratios", "tpi_values"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


def _interval_error() -> FieldError:
    return FieldError("interval", "A bin length is a whole number of s, m, h or d, such as 5m.")


def state_name(code: int, *, lang: str = "zh") -> str:
    names = STATE_NAMES if lang == "zh" else STATE_NAMES_EN
    return names[code - 1]
