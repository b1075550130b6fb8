"""The drill's command timeout: 6 s unless ISOLEMENT_DRILL_TIMEOUT_S says otherwise, and never
one that would call the slow-device fault down."""

from __future__ import annotations

import pytest
from isolement.lab.drill import DRILL_TIMEOUT_ENV, DRILL_TIMEOUT_S, drill_timeout
from isolement.lab.faults import Fault, FaultName

from isolement.model.errors import LabError

SLOW = [Fault(FaultName.SLOW_DEVICE, "est-sw")]


def test_the_default_is_six_seconds_without_the_variable(monkeypatch) -> None:
    monkeypatch.delenv(DRILL_TIMEOUT_ENV, raising=False)
    assert drill_timeout() == DRILL_TIMEOUT_S == 6.0
    assert drill_timeout(SLOW) == 6.0


def test_the_variable_sets_another_number_of_seconds(monkeypatch) -> None:
    monkeypatch.setenv(DRILL_TIMEOUT_ENV, "3")
    assert drill_timeout() == 3.0
    assert drill_timeout([Fault(FaultName.DEVICE_DOWN, "ker-sw")]) == 3.0


@pytest.mark.parametrize("text", ["soon", "0", "-1", "nan", "inf"])
def test_a_value_that_is_no_time_is_refused(monkeypatch, text: str) -> None:
    monkeypatch.setenv(DRILL_TIMEOUT_ENV, text)
    with pytest.raises(LabError, match=DRILL_TIMEOUT_ENV):
        drill_timeout()


def test_a_timeout_the_slow_device_would_fail_is_refused_when_it_is_drilled(monkeypatch) -> None:
    monkeypatch.setenv(DRILL_TIMEOUT_ENV, "1.5")
    assert drill_timeout() == 1.5
    with pytest.raises(LabError, match="slow-device"):
        drill_timeout(SLOW)
