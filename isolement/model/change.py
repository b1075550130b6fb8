"""A change set: what a driver renders for one device, and how it is committed. Pydantic, no I/O,
imported by the drivers and the plan alike."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class CommitMode(StrEnum):
    """How a change set is put in effect once its lines are loaded."""

    NONE = "none"  # each line is in effect as typed (no candidate configuration)
    PLAIN = "plain"  # a candidate configuration, put in effect by a commit
    # A commit the device rolls back by itself unless confirmed in time: the runner confirms
    # it once the session has proved it still works (a restore that cut its own path is not).
    CONFIRMED = "confirmed"


class ChangeSet(BaseModel):
    """What a driver renders for one device's step against the state read from it: the lines
    to load, and whether and how they are committed. The transaction around them (enter the
    configuration, compare, commit, confirm, discard on refusal) is the runner's, through the
    driver's verbs (napalm's load/compare/commit/confirm/discard), never lines in here."""

    model_config = ConfigDict(frozen=True)

    lines: list[str] = []
    commit: CommitMode = CommitMode.NONE
    # CONFIRMED: minutes before the device rolls the commit back unless it is confirmed.
    confirm_minutes: int | None = None
    # An offline plan (no state read): what the change does where its lines need the device's
    # state ("deny rules for the zone of ethernet1/1, resolved when the device is read"). A
    # change set holding any is never sent.
    unresolved: list[str] = []

    def commit_text(self) -> str | None:
        """The commit as the plan shows it, None when there is none."""
        if self.commit is CommitMode.NONE or not self.lines:
            return None
        if self.commit is CommitMode.CONFIRMED:
            return f"commit confirmed {self.confirm_minutes} min, read back, then confirmed"
        return "commit"
