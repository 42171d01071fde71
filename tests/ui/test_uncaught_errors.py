"""An error no code caught (a fault in a slot) is written to the log file, not only to a console nobody sees."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

from ui.app import log_uncaught_errors


def test_an_uncaught_error_reaches_the_log_and_the_hook_before_it(monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: Any) -> None:
    """The toolbar's Sign in… once raised TypeError in its slot: the traceback went to stderr, the log had nothing."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, trace: seen.append(error))
    log_uncaught_errors()
    log_uncaught_errors()   # a second window: still one line in the log per error
    error = TypeError("QLabel.__init__ called with wrong argument types")
    with caplog.at_level(logging.CRITICAL, logger="ui.app"):
        sys.excepthook(TypeError, error, error.__traceback__)
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [error]
    assert seen == [error]
