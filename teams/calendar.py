"""A team's working calendar: which dates count as working days (weekdays minus holidays).

Pace, forecasts, breakdowns and check-in reminders all count *working* days through this class.
"""

import datetime
from dataclasses import dataclass, field

ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO: Monday=1 … Sunday=7
    holidays: frozenset[datetime.date] = field(default_factory=frozenset)
    # Answers already given: a recompute asks the same few calendars the same questions for thousands of goals that
    # share their dates. A calendar never changes, so they stay right; _remember bounds how many it keeps.
    _memo: dict = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)

    @classmethod
    def from_team(cls, working_weekdays: str, holidays=()):
        return cls(frozenset(int(c) for c in working_weekdays), frozenset(holidays))

    def is_working_day(self, day: datetime.date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def working_dates(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """Working dates from start to end, both included (empty when end < start)."""
        days, day = [], start
        while day <= end:
            if self.is_working_day(day):
                days.append(day)
            day += ONE_DAY
        return days

    def count(self, start: datetime.date, end: datetime.date) -> int:
        """Number of working days from start to end, both included."""
        return self._remember(("count", start, end), self._count)

    def _count(self, start: datetime.date, end: datetime.date) -> int:
        if end < start:
            return 0
        full_weeks, extra = divmod((end - start).days + 1, 7)
        total = full_weeks * len(self.weekdays)
        day = start + datetime.timedelta(days=full_weeks * 7)
        for _ in range(extra):
            total += day.isoweekday() in self.weekdays
            day += ONE_DAY
        total -= sum(1 for h in self.holidays if start <= h <= end and h.isoweekday() in self.weekdays)
        return total

    def add_working_days(self, start: datetime.date, n: int) -> datetime.date:
        """The date n working days before start (n < 0), stepping over non-working days."""
        return self._remember(("add", start, n), self._add_working_days)

    def _remember(self, key: tuple, compute):
        if key not in self._memo:
            if len(self._memo) >= 100_000:  # a long-lived worker's default calendar: start again, never grow
                self._memo.clear()
            self._memo[key] = compute(*key[1:])
        return self._memo[key]

    def _add_working_days(self, start: datetime.date, n: int) -> datetime.date:
        day, step, left = start, (ONE_DAY if n >= 0 else -ONE_DAY), abs(n)
        while left:
            day += step
            if self.is_working_day(day):
                left -= 1
        return day


def org_today(now: datetime.datetime | None = None) -> datetime.date:
    """The organisation's local date (settings.TIME_ZONE), whatever timezone is active: daily jobs run on it,
    and every goal's figures (pace, working days left) are counted on it."""
    import zoneinfo

    from django.conf import settings
    from django.utils import timezone

    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def format_day(day: datetime.date, *, weekday: bool = False, today: datetime.date | None = None) -> str:
    """The one way Pacer writes a date: "1 Dec" this year, "1 Jan 1999" another year; "Fri 1 Jan 1999" with
    `weekday`. (The `day` template filter in goals/templatetags/pacer.py is this function.)"""
    today = today or org_today()
    text = f"{day.day} {day:%b}" + ("" if day.year == today.year else f" {day.year}")
    return f"{day:%a} {text}" if weekday else text
