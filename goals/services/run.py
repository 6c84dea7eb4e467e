"""What one recompute (or preview) reads once and every one of its batches shares.

A full recompute runs in batches of goals, each its own transaction (engine.py). The people's rep teams, the
teams' calendars and rep capacities, and the teams' daily totals behind the forecast's fallback priors
(history.py) are the same for every batch: read per batch, a team's history alone was most of a batch's work.
A run reads each of them the first time a batch needs it. A run lasts seconds; a change that lands meanwhile
marks the goals it touches stale, and the next coalesced pass picks it up, as it would between two runs.
"""

import datetime
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from teams.calendar import WorkingCalendar
from teams.models import Membership
from teams.selectors import active_memberships, calendars_for_teams, team_ids_with_descendants, team_parents

DEFAULT_CALENDAR = WorkingCalendar()


@dataclass
class TeamDays:
    """A team's counted daily totals on one KPI over [first, last]: the days with any, and running sums of the
    totals and of their squares (for the forecast's spread)."""

    first: datetime.date
    last: datetime.date
    days: list[datetime.date]
    running: list[Decimal]  # running[i]: the sum of the totals of days[:i]
    running_squares: list[Decimal]

    @classmethod
    def of(cls, first: datetime.date, last: datetime.date, totals: dict[datetime.date, Decimal]) -> "TeamDays":
        days = sorted(totals)
        amounts = [totals[day] for day in days]
        zero = [Decimal(0)]
        return cls(first, last, days, zero + list(accumulate(amounts)), zero + list(accumulate(a * a for a in amounts)))

    def covers(self, first: datetime.date, last: datetime.date) -> bool:
        return self.first <= first and last <= self.last

    def _slice(self, first: datetime.date, last: datetime.date) -> tuple[int, int]:
        return bisect_left(self.days, first), bisect_right(self.days, last)

    def sum(self, first: datetime.date, last: datetime.date) -> Decimal | None:
        """The sum over [first, last]; None when no day in it has any (so "nothing logged" is not a 0 rate)."""
        low, high = self._slice(first, last)
        return self.running[high] - self.running[low] if high > low else None

    def stats(
        self, first: datetime.date, before: datetime.date, last: datetime.date, *, today: datetime.date
    ) -> tuple[Decimal, int, Decimal, Decimal, Decimal]:
        """(sum over [first, before], days with any in it, sum and sum of squares over [first, last], today's)."""
        low, high = self._slice(first, last)
        split = bisect_right(self.days, before, low, high)
        at = bisect_left(self.days, today, low, high)
        todays = self.running[at + 1] - self.running[at] if at < high and self.days[at] == today else Decimal(0)
        return (
            self.running[split] - self.running[low],
            split - low,
            self.running[high] - self.running[low],
            self.running_squares[high] - self.running_squares[low],
            todays,
        )


@dataclass
class Run:
    today: datetime.date
    _rep_team: dict[int, tuple[int, Decimal] | None] = field(default_factory=dict)
    _calendars: dict[int, WorkingCalendar] = field(default_factory=dict)
    _parents: dict[int, int | None] | None = None
    _team_capacity: dict[int, Decimal] = field(default_factory=dict)
    team_days: dict[tuple[int, int], TeamDays] = field(default_factory=dict)  # (KPI, team): kept by history.py

    def rep_teams(self, user_ids) -> dict[int, tuple[int, Decimal]]:
        """{user id: (their current rep team, their capacity)} for those who are a rep today (one query for
        the users not yet read). Should memberships overlap, the latest wins."""
        missing = set(user_ids) - self._rep_team.keys()
        if missing:
            self._rep_team.update(dict.fromkeys(missing))
            for user_id, team_id, capacity in (
                active_memberships(self.today)
                .filter(role=Membership.Role.REP, user_id__in=missing)
                .order_by("active_from")
                .values_list("user_id", "team_id", "capacity")
            ):
                self._rep_team[user_id] = (team_id, Decimal(capacity))
        return {u: found for u in user_ids if (found := self._rep_team[u]) is not None}

    def calendars(self, team_ids) -> dict[int, WorkingCalendar]:
        """Each team's working calendar (two queries for the teams not yet read)."""
        missing = set(team_ids) - self._calendars.keys()
        if missing:
            self._calendars.update(calendars_for_teams(team_ids=missing))
        return {team_id: self._calendars[team_id] for team_id in team_ids}

    def team_capacity(self, team_ids) -> dict[int, Decimal]:
        """{team id: the total rep capacity of its tree today} (two queries for the teams not yet read)."""
        missing = set(team_ids) - self._team_capacity.keys()
        if missing:
            if self._parents is None:
                self._parents = team_parents()
            trees = {root: team_ids_with_descendants([root], parents=self._parents) for root in missing}
            per_team: dict[int, Decimal] = {}
            for team_id, capacity in (
                active_memberships(self.today)
                .filter(role=Membership.Role.REP, team_id__in=set().union(*trees.values()))
                .values_list("team_id", "capacity")
            ):
                per_team[team_id] = per_team.get(team_id, Decimal(0)) + Decimal(capacity)
            for root, tree in trees.items():
                self._team_capacity[root] = sum((per_team.get(t, Decimal(0)) for t in tree), Decimal(0))
        return {team_id: self._team_capacity[team_id] for team_id in team_ids}
