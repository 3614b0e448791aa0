"""What the commute analysis counts as a peak, a trip and a mode, and the published reference.

Peaks are hours of the city's local time (``settings.timezone``): a trip belongs to a peak when it
starts at or after the first hour and before the last. Change them here (or pass a ``Peaks`` to
the analysis functions) for a city whose rush hours differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityos.core.i18n import N_

MODES: tuple[str, ...] = ("car", "taxi", "ridehail", "bus", "metro", "bike", "walk", "other")
SOURCES: tuple[str, ...] = ("derived", "imported")
LEVELS: tuple[str, ...] = ("district", "h3")
PEAK_NAMES: tuple[str, ...] = ("am", "pm", "all")
H3_RESOLUTION = 8  # about 460 m cell edge: the OD cells of the h3 level

# A probe kind's trips are of this mode.
PROBE_MODES: dict[str, str] = {"taxi": "taxi", "ridehail": "ridehail", "bus": "bus", "other": "other"}
OCCUPIED_KINDS: frozenset[str] = frozenset({"taxi", "ridehail"})  # a trip is an occupied run

STOP_SPLIT_S = 300  # other probes: a stop longer than this ends a trip
GAP_SPLIT_S = 300  # no fix for longer than this ends a trip too
STOPPED_KMH = 3.0  # a fix slower than this (or within STOPPED_M of the previous one) is stopped
STOPPED_M = 25.0
MIN_TRIP_M = 200.0  # shorter runs are repositioning or noise, not trips
MIN_TRIP_S = 60.0
DETOUR_FACTOR = 1.3  # imported rows without a distance: straight line × this (documented estimate)


@dataclass(frozen=True)
class Peaks:
    """Local hours [start, end) of the morning and evening peaks."""

    am: tuple[int, int] = (7, 9)
    pm: tuple[int, int] = (17, 19)

    def hours(self, peak: str) -> tuple[int, int] | None:
        if peak == "am":
            return self.am
        if peak == "pm":
            return self.pm
        return None


PEAKS = Peaks()


@dataclass(frozen=True)
class Reference:
    """A published average commute, shown beside the city's own figures."""

    label: str  # msgid
    minutes: float
    km: float
    source: str


# The reference issue 8 gives (docs/mobility/commute.md cites it): Beijing's average one-way commute.
# The issue names no report or year; replace both figures and the source together when citing one.
REFERENCE = Reference(
    label=N_("Beijing average"),
    minutes=52.0,
    km=19.2,
    source="cityos issue 8 (智慧出行): Beijing averages 52 min and 19.2 km",
)
