"""Working days and working hours on the official Chinese calendar.

The calendar is data in the database (``CalendarDay``/``CalendarYear``), seeded from the
``chinese-calendar`` package, which knows only the years the State Council has published. A
deadline that runs into a year without data does not fail: that year counts Monday to Friday as
working days and the calendar reports it in ``missing_years`` so pages can warn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.settings import get_settings
from cityos.workflow.models import CalendarDay, CalendarYear

# Office hours of a working day (city time): 09:00-12:00 and 13:30-17:30, seven hours.
WORK_PERIODS: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))


@dataclass
class WorkCalendar:
    """Answers "is this a working day" and adds working hours or days to a moment."""

    exceptions: dict[date, bool]  # day -> working?
    known_years: set[int]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(get_settings().timezone))
    missing_years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session) -> WorkCalendar:
        exceptions = {row.day: row.workday for row in session.scalars(select(CalendarDay))}
        years = set(session.scalars(select(CalendarYear.year)))
        return cls(exceptions, years)

    def is_workday(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        if day.year not in self.known_years:
            self.missing_years.add(day.year)
        return day.weekday() < 5

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day):
            return []
        return [
            (datetime.combine(day, start, self.zone), datetime.combine(day, end, self.zone))
            for start, end in WORK_PERIODS
        ]

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` office hours after ``start`` (time outside office hours does not count)."""
        remaining = timedelta(hours=hours)
        moment = start.astimezone(self.zone)
        day = moment.date()
        for _ in range(3660):  # ten years of days: a runaway limit is a bug, not a deadline
            for begin, end in self._periods(day):
                if end <= moment:
                    continue
                begin = max(begin, moment)
                if end - begin >= remaining:
                    return begin + remaining
                remaining -= end - begin
            day += timedelta(days=1)
            moment = datetime.combine(day, time.min, self.zone)
        raise ValueError("working-hour deadline beyond ten years")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of office hours on the ``days``-th working day after the day of ``start``."""
        day = start.astimezone(self.zone).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day, WORK_PERIODS[-1][1], self.zone)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        if unit == "working_hours":
            return self.add_working_hours(start, amount)
        if unit == "working_days":
            return self.add_working_days(start, int(amount))
        if unit == "hours":
            return start + timedelta(hours=amount)
        if unit == "days":
            return start + timedelta(days=amount)
        raise ValueError(f"unknown time unit {unit!r}")


def missing_years(session: Session, years: Iterable[int]) -> list[int]:
    """Those of ``years`` whose official calendar is not loaded yet."""
    known = set(session.scalars(select(CalendarYear.year)))
    return [y for y in years if y not in known]


def seed_years(session: Session, years: Iterable[int]) -> list[int]:
    """Load the official holidays and make-up working days of ``years`` from chinese-calendar.
    Returns the years loaded; years the package does not know are skipped."""
    import chinese_calendar

    loaded: list[int] = []
    for year in years:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:  # how chinese-calendar says it has no official data for a year
            continue  # skipped: such a year counts Monday to Friday and shows in missing_years
        days: dict[date, tuple[bool, str]] = {}
        for day, name in chinese_calendar.holidays.items():
            if day.year == year and day.weekday() < 5:
                days[day] = (False, str(name))
        for day, name in chinese_calendar.workdays.items():
            if day.year == year and day.weekday() >= 5:
                days[day] = (True, str(name))
        for existing in session.scalars(select(CalendarDay).where(CalendarDay.day.in_(list(days)))):
            session.delete(existing)
        session.flush()
        for day, (workday, name) in sorted(days.items()):
            session.add(CalendarDay(day=day, workday=workday, name=name[:64]))
        if session.get(CalendarYear, year) is None:
            session.add(CalendarYear(year=year, source=f"chinese-calendar {chinese_calendar.__version__}"))
        loaded.append(year)
    session.flush()
    return loaded


def year_exceptions(session: Session, year: int) -> list[CalendarDay]:
    return list(
        session.scalars(
            select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


def set_day(session: Session, *, day: date, workday: bool, name: str) -> CalendarDay | None:
    """Mark ``day`` as a working day or a day off. A day that then matches the plain week
    (working Monday to Friday, off at the weekend) is no exception and is removed."""
    row = session.get(CalendarDay, day)
    plain = day.weekday() < 5
    if workday == plain:
        if row is not None:
            session.delete(row)
        session.flush()
        return None
    if row is None:
        row = CalendarDay(day=day, workday=workday, name=name[:64])
        session.add(row)
    else:
        row.workday, row.name = workday, name[:64]
    if session.get(CalendarYear, day.year) is None:
        session.add(CalendarYear(year=day.year, source="edited"))
    session.flush()
    return row
