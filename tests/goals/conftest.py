"""Fixtures shared by the goals tests: the KPI most of them set goals on, and the days they happen on."""

import datetime

import pytest
import time_machine

from tests.factories import KpiFactory


@pytest.fixture
def deals(db):
    """A count KPI, summed, higher is better: "Deals won"."""
    return KpiFactory(name="Deals won")


@pytest.fixture
def wednesday_11_march():
    """Frozen at Wednesday 11 March 2026, 10:00 UTC (the personas' timezone): the week runs Mon 9 – Sun 15, and
    March's working days Mon 2 – Fri 27. Modules use it with `pytest.mark.usefixtures`."""
    with time_machine.travel(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def monday_2_march(time_machine):
    """Frozen at Monday 2 March 2026, 09:00 UTC, through pytest's `time_machine` fixture: a test that also asks
    for `time_machine` may move on from there."""
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC), tick=False)
