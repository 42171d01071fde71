"""Statutory clocks on screen: colours by state, and the case page's list of every clock.

The words and the amber/red rule are the core's (`fieldapp.clocks`); this module only
paints them. Times are shown in Europe/London.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from fieldapp.clocks import (
    STAGE_SHORT,
    ClockState,
    clock_state,
    london_text,
    nearest_unmet,
    short_left_text,
    stage_text,
    time_left_text,
)
from fieldapp.types import CaseDetail, Clock
from ui.format import Urgency, due_text
from ui.look import PROBLEM_RED
from ui.widgets import clear_layout, repolish, wrapping_label

#: Text colours of a clock's state (the same as the stylesheet's ``clock`` property).
CLOCK_COLOURS: dict[ClockState, QColor] = {
    ClockState.BREACHED: QColor(PROBLEM_RED),
    ClockState.AMBER: QColor("#8a5a00"),
    ClockState.MET: QColor("#2e7d32"),
}


def clock_label(text: str, state: ClockState) -> QLabel:
    """A label coloured by the clock's state (stylesheet property ``clock``), wrapping in a narrow column."""
    label = wrapping_label(text)
    label.setProperty("clock", state.value)
    repolish(label)
    return label


def clock_summary(clock: Clock, now: datetime) -> str:
    """One line for lists: stage and time left ("Investigate the hazard · 3 working days left")."""
    return f"{stage_text(clock.stage)} · {time_left_text(clock, now)}"


#: How loudly the case list shows a clock (the list's due-date urgency).
_URGENCY = {ClockState.BREACHED: Urgency.OVERDUE, ClockState.AMBER: Urgency.SOON, ClockState.MET: Urgency.NONE}


def clock_due_text(clock: Clock, now: datetime) -> tuple[str, Urgency]:
    """The case list's Due cell for a clock: short stage and time left, and how urgent it is."""
    short = STAGE_SHORT.get(clock.stage, stage_text(clock.stage))
    return f"{short} · {short_left_text(clock, now)}", _URGENCY.get(clock_state(clock, now), Urgency.NORMAL)


def show_due(label: QLabel, case: CaseDetail, now: datetime | None = None) -> None:
    """The case page's one-line deadline: the nearest unmet statutory clock, else the case's due date."""
    now = now or datetime.now(timezone.utc)
    clock = nearest_unmet(case.clocks)
    if clock is not None:
        label.setText(f"Next deadline: {clock_summary(clock, now)} (due {london_text(clock.due_at)})")
        label.setProperty("clock", clock_state(clock, now).value)
    else:
        text, urgency = due_text(case.due_at, now)
        label.setText(text)
        label.setProperty("clock", ClockState.BREACHED.value if urgency == Urgency.OVERDUE else ClockState.RUNNING.value)
    repolish(label)


class ClocksPanelWidget(QGroupBox):
    """Every clock of a case: its stage in plain English, when it is due, and whether it was met."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Deadlines (Awaab's Law)", parent)
        self.setAccessibleName("Statutory deadlines of this case")
        self.intro = wrapping_label("", "muted")
        self.grid = QGridLayout()
        self.grid.setColumnStretch(0, 3)
        self.grid.setColumnStretch(2, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.grid)
        self.rows: list[tuple[QLabel, QLabel, QLabel]] = []

    def set_case(self, case: CaseDetail, now: datetime | None = None) -> None:
        """Show the case's clocks as the portal computed them, worded for ``now``."""
        now = now or datetime.now(timezone.utc)
        clear_layout(self.grid)
        self.rows = []
        aware = f"The council became aware {london_text(case.aware_at or case.opened_at)}"
        if case.reported_hazards:
            aware += f", of: {', '.join(case.reported_hazards)}"
        if not case.clocks:
            regulated = ("Under Awaab's Law; the portal sets the deadlines at the next sync." if case.awaab
                         else "No statutory deadline runs for this case.")
            self.intro.setText(f"{aware}. {regulated}")
            return
        self.intro.setText(f"{aware}. The portal computes these deadlines; they update at each sync.")
        for column, title in enumerate(("Stage", "Due", "Status")):
            header = QLabel(title)
            header.setObjectName("muted")
            self.grid.addWidget(header, 0, column)
        for number, clock in enumerate(case.clocks, start=1):
            state = clock_state(clock, now)
            stage = wrapping_label(stage_text(clock.stage))
            stage.setToolTip(clock.basis)
            # Due and status wrap like the stage: unwrapped, the three columns widened the case page
            # past its pane at 1366x768 with 150 % and hid Start visit behind a sideways scroll.
            due = wrapping_label(london_text(clock.due_at))
            status = clock_label(time_left_text(clock, now), state)
            status.setToolTip(clock.basis)
            status.setAccessibleName(f"{stage_text(clock.stage)}: {status.text()}")
            for column, widget in enumerate((stage, due, status)):
                self.grid.addWidget(widget, number, column, Qt.AlignmentFlag.AlignTop)
            self.rows.append((stage, due, status))
