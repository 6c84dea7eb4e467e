"""The API's goal and micro goal figures are goals.figures.GoalFigures.as_dict(), the one definition every page,
chart and email shows: all of them (the forecast's likely range and chance included), not a hand-picked subset,
and documented field for field in the schema."""

import dataclasses

import pytest

from goals.api.goals import FiguresSerializer
from goals.figures import GoalFigures, figures_for
from goals.selectors import owner_calendar
from goals.services import progress_recompute
from teams.calendar import org_today
from teams.selectors import calendars_for_reps

pytestmark = pytest.mark.django_db


def test_the_documented_figures_are_exactly_goal_figures_fields():
    """A figure added to GoalFigures must be documented (else schemathesis' conformance check would be blind)."""
    held = {field.name for field in dataclasses.fields(GoalFigures)} - {"kpi"}
    assert set(FiguresSerializer().fields) == held


def _computed(world):
    progress_recompute(goal_ids=[world.a.team_goal.id, world.a.rep_goal.id], micro_goal_ids=[world.a.micro.id])
    for item in (world.a.team_goal, world.a.rep_goal, world.a.micro):
        item.refresh_from_db()
    return world


def test_goal_figures_are_the_pages_figures_with_the_forecast_range(world, client_for):
    world = _computed(world)
    client = client_for("manager_a")
    today = org_today()
    for goal in (world.a.team_goal, world.a.rep_goal):
        expected = figures_for(
            goal, calendar=owner_calendar(owner_user=goal.owner_user, owner_team=goal.owner_team), today=today
        ).as_dict()
        detail = client.get(f"/api/v1/goals/{goal.id}/").json()
        assert detail["figures"] == expected
        assert detail["computed_at"] is not None
        listed = {g["id"]: g["figures"] for g in client.get("/api/v1/goals/").json()["results"]}
        assert listed[goal.id] == expected
    figures = client.get(f"/api/v1/goals/{world.a.rep_goal.id}/").json()["figures"]
    assert figures["forecast_low"] is not None and figures["forecast_high"] is not None
    assert figures["chance"] is not None and figures["per_day"] is not None
    assert {"attainment", "days_left", "expected", "forecast", "health", "pace_gap", "remaining"} <= set(figures)


def test_micro_goal_figures_are_the_pages_figures(world, client_for):
    world = _computed(world)
    micro = world.a.micro
    calendar = calendars_for_reps(user_ids=[micro.assignee_id])[micro.assignee_id]
    expected = figures_for(micro, calendar=calendar, today=org_today()).as_dict()
    client = client_for("rep_a")
    assert client.get(f"/api/v1/micro-goals/{micro.id}/").json()["figures"] == expected
    listed = {m["id"]: m["figures"] for m in client.get("/api/v1/micro-goals/").json()["results"]}
    assert listed[micro.id] == expected
    of_goal = client.get(f"/api/v1/goals/{world.a.rep_goal.id}/micro-goals/").json()
    assert {m["id"]: m["figures"] for m in of_goal}[micro.id] == expected


def test_the_goals_csv_export_shows_the_same_figures(world, client_for):
    """The streamed export (browser and API) reads GoalFigures too: no figure of its own."""
    import csv
    import io

    world = _computed(world)
    goal = world.a.rep_goal
    expected = figures_for(
        goal, calendar=owner_calendar(owner_user=goal.owner_user, owner_team=goal.owner_team), today=org_today()
    ).as_dict()
    response = client_for("manager_a").get("/api/v1/goals/export/", HTTP_ACCEPT="text/csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))}
    row = rows[str(goal.id)]
    assert row["current_value"] == expected["current"] and row["expected_value"] == expected["expected"]
    assert (row["forecast_low"], row["forecast_high"]) == (expected["forecast_low"], expected["forecast_high"])
    assert row["chance_percent"] == str(expected["chance"]) and row["needed_per_day"] == expected["per_day"]
    assert row["working_days_left"] == str(expected["days_left"]) and row["health"] == expected["health"]
