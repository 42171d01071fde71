"""The one place in the desktop app that owns threads.

Database work runs on a serial executor (one worker thread, so `FieldStore` calls
never race each other and run in the order the officer made them); network work
(sync, health checks, downloads) runs on a small pool; heavy computing the officer is
not waiting on line by line (preparing imported photos) runs on one background thread
at low priority, so it never takes the processor from a save. Results come back to the
GUI thread through a queued signal, so callbacks always run on the GUI thread.

Work functions are plain Python. When they take ``progress`` it is a callable
``progress(fraction, text)``; when they take ``cancel`` it is a `threading.Event`.
Progress and results cross threads as frozen dataclasses (or `QImage`, which is safe
off the GUI thread; `QPixmap` is not and must only be made in callbacks).

Typical use::

    Op(self, lambda: store.case(case_id), what="show the case").success(self._show_case).failure(self._warn).run()

No failure is silent: every failure is logged with its traceback (our own errors as
warnings, anything else as errors), and a failure that its caller does not handle
(no ``failure`` callback, or a callback that itself raised) is announced by
`TaskManager.sig_failed`, which the main window shows as a message.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, Protocol, TypeAlias, TypeVar, cast, overload

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from fieldapp.errors import FieldappError
from fieldapp.priority import lower_this_thread

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

ProgressFn = Callable[[float, str], None]


class _WorkWithProgress(Protocol[T_co]):
    def __call__(self, *, progress: ProgressFn) -> T_co: ...


class _WorkWithCancel(Protocol[T_co]):
    def __call__(self, *, cancel: threading.Event) -> T_co: ...


class _WorkWithBoth(Protocol[T_co]):
    def __call__(self, *, progress: ProgressFn, cancel: threading.Event) -> T_co: ...


#: A work function: no arguments, or ``progress`` and/or ``cancel`` (passed by name, see `Op`).
Work: TypeAlias = "Callable[[], T] | _WorkWithProgress[T] | _WorkWithCancel[T] | _WorkWithBoth[T]"


@dataclass(frozen=True)
class TaskProgress:
    """How far a piece of background work has got (fraction 0–1, or -1 when unknown)."""

    fraction: float
    text: str


@dataclass(frozen=True)
class TaskFailure:
    """A background error, turned into a sentence the officer can read."""

    message: str
    error: BaseException
    what: str = ""   # what the work was for ("save the visit"), when the caller said

    @property
    def sentence(self) -> str:
        """The message with what could not be done, for a message shown without other context."""
        return f"Fieldapp could not {self.what}. {self.message}" if self.what else self.message

    @property
    def kind(self) -> str:
        return type(self.error).__name__


class Cancelled(Exception):
    """Raised inside a work function's progress reporter once the work was cancelled."""


def describe_error(error: BaseException) -> str:
    """A readable one-line message for any exception (our own errors already are)."""
    if isinstance(error, FieldappError) or type(error).__module__.startswith("sync"):
        text = str(error).strip()
        if text:
            return text
    if isinstance(error, Cancelled):
        return "Cancelled."
    if isinstance(error, MemoryError):
        return "The computer ran out of memory. Close other programs and try again."
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return f"A file could not be read or written{where}: {error.strerror or error}."
    text = str(error).strip() or type(error).__name__
    return f"Something went wrong: {text}. Details are in the log file."


def log_failure(error: BaseException, what: str = "") -> None:
    """Put a failure in the log with its traceback (a cancel is the officer's choice: one line)."""
    doing = f" ({what})" if what else ""
    if isinstance(error, Cancelled):
        log.info("Background work cancelled%s", doing)
    elif isinstance(error, FieldappError):
        log.warning("Background work refused%s: %s", doing, error, exc_info=error)
    else:
        log.error("Background work failed%s", doing, exc_info=error)


class _Mailbox(QObject):
    """Lives on the GUI thread; worker threads post closures to it through a queued signal."""

    sig_deliver = Signal(object)           # a Callable[[], None] to run on the GUI thread
    sig_callback_failed = Signal(object)   # the exception a GUI-thread callback raised

    def __init__(self) -> None:
        super().__init__()
        # Queued explicitly: the emit happens on a worker thread and the slot must run
        # on the GUI thread, whatever Qt's automatic choice would be.
        self.sig_deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)

    def _on_deliver(self, closure: Callable[[], None]) -> None:
        try:
            closure()
        except Exception as exc:  # a broken callback must not take the event loop down, nor pass unseen
            log.exception("A callback on the GUI thread failed")
            self.sig_callback_failed.emit(exc)


class TaskManager(QObject):
    """Owns the database executor, the network pool and the background thread; hands results back to the GUI thread."""

    #: A failure no caller handled, on the GUI thread: the window shows it.
    sig_failed = Signal(object)   # TaskFailure

    def __init__(self, network_workers: int = 4) -> None:
        super().__init__()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldapp-db")
        self._net = ThreadPoolExecutor(max_workers=network_workers, thread_name_prefix="fieldapp-net")
        # One thread: photo imports queue for it one file at a time instead of crowding the cores.
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldapp-cpu", initializer=lower_this_thread)
        self._mailbox = _Mailbox()
        self._mailbox.sig_callback_failed.connect(
            lambda error: self.report_failure(TaskFailure(describe_error(error), error)))
        self._cancels: set[threading.Event] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._pending = 0
        self._net_futures: set[Future[object]] = set()

    # -------------------------------------------------------------- plumbing

    def run_on_main(self, closure: Callable[[], None]) -> None:
        """Run ``closure`` on the GUI thread (safe to call from any thread)."""
        if not self._closed:
            self._mailbox.sig_deliver.emit(closure)

    def report_failure(self, failure: TaskFailure) -> None:
        """Announce a failure nobody handled (GUI thread), so the window can show it."""
        if not self._closed:
            self.sig_failed.emit(failure)

    def new_cancel(self) -> threading.Event:
        """A cancel event that `shutdown` will set."""
        event = threading.Event()
        with self._lock:
            self._cancels.add(event)
        return event

    def forget_cancel(self, event: threading.Event) -> None:
        """Stop tracking an event from `new_cancel` once the work it could stop is over."""
        self._forget_cancel(event)

    def _forget_future(self, future: Future[object]) -> None:
        with self._lock:
            self._net_futures.discard(future)

    def _forget_cancel(self, event: threading.Event) -> None:
        with self._lock:
            self._cancels.discard(event)

    @property
    def busy(self) -> bool:
        """True while any submitted work has not yet delivered its result."""
        return self._pending > 0

    def submit(self, fn: Callable[[], T], on_done: Callable[[Future[T]], None] | None, *, network: bool,
               background: bool = False) -> Future[T]:
        """Run ``fn`` on the database executor (or the network pool, or the background thread); ``on_done`` runs on the GUI thread."""
        if self._closed:
            raise RuntimeError("The task manager has been shut down.")
        executor = self._cpu if background else self._net if network else self._db
        with self._lock:
            self._pending += 1
        future = executor.submit(fn)
        if network or background:
            with self._lock:
                # Only waited for at shutdown, never given a result: any result type will do.
                self._net_futures.add(cast("Future[object]", future))
            future.add_done_callback(lambda fut: self._forget_future(cast("Future[object]", fut)))

        def done(fut: Future[T]) -> None:
            def deliver() -> None:
                with self._lock:
                    self._pending -= 1
                if on_done is not None:
                    on_done(fut)
            self.run_on_main(deliver)

        future.add_done_callback(done)
        return future

    def run_db_sync(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run ``fn`` on the database thread and wait for it (only for shutdown-time saves)."""
        return self._db.submit(fn).result(timeout=timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel running work, let queued database writes finish, then stop the threads."""
        if self._closed:
            return
        with self._lock:
            for event in self._cancels:
                event.set()
        # Network and background work is cancellable: queued jobs are dropped, running ones see cancel.
        self._net.shutdown(wait=False, cancel_futures=True)
        self._cpu.shutdown(wait=False, cancel_futures=True)
        # Database work is never dropped: a queued autosave must reach the disk.
        self._db.shutdown(wait=True)
        with self._lock:
            running = [f for f in self._net_futures if not f.done()]
        # Bounded: a request stuck in a slow network must not keep the app from closing.
        wait(running, timeout=timeout)
        self._closed = True


class Op(Generic[T]):
    """A fluent background operation: ``Op(parent, fn).success(cb).failure(cb).run()``.

    ``fn`` may accept ``progress`` and/or ``cancel`` keyword arguments; they are passed
    when its signature asks for them. Callbacks run on the GUI thread, and are skipped
    when ``parent`` (a QObject) has been deleted meanwhile.
    """

    #: Set by the application at start (tests set their own).
    manager: TaskManager | None = None

    # One overload per shape of work function, so T is the function's result whichever it takes.
    @overload
    def __init__(self, parent: QObject | None, fn: Callable[[], T], *, network: bool = False,
                 background: bool = False, what: str = "") -> None: ...
    @overload
    def __init__(self, parent: QObject | None, fn: _WorkWithProgress[T], *, network: bool = False,
                 background: bool = False, what: str = "") -> None: ...
    @overload
    def __init__(self, parent: QObject | None, fn: _WorkWithCancel[T], *, network: bool = False,
                 background: bool = False, what: str = "") -> None: ...
    @overload
    def __init__(self, parent: QObject | None, fn: _WorkWithBoth[T], *, network: bool = False,
                 background: bool = False, what: str = "") -> None: ...

    def __init__(self, parent: QObject | None, fn: Work[T], *, network: bool = False,
                 background: bool = False, what: str = "") -> None:
        self._parent = parent
        self._fn = fn
        self._what = what  # "save the visit": completes "Fieldapp could not …" in the log and on screen
        self._network = network
        self._background = background
        self._manager = Op.manager
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[TaskFailure], None] | None = None
        self._on_progress: Callable[[TaskProgress], None] | None = None
        self._on_finally: Callable[[], None] | None = None
        self._cancel: threading.Event | None = None
        self._min_interval = 0.05
        self._last_progress = (-1.0, "", 0.0)

    def success(self, callback: Callable[[T], None]) -> "Op[T]":
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[TaskFailure], None]) -> "Op[T]":
        """Handle the failure here (it is still logged); without one, the window shows it."""
        self._on_failure = callback
        return self

    def progress(self, callback: Callable[[TaskProgress], None]) -> "Op[T]":
        self._on_progress = callback
        return self

    def finally_(self, callback: Callable[[], None]) -> "Op[T]":
        """Run after success or failure (to re-enable a button, hide a spinner)."""
        self._on_finally = callback
        return self

    def with_cancel(self, event: threading.Event) -> "Op[T]":
        self._cancel = event
        return self

    def _alive(self) -> bool:
        return self._parent is None or shiboken6.isValid(self._parent)

    def _report(self, fraction: float, text: str) -> None:
        """Progress reporter given to the work function; throttled, raises once cancelled."""
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled()
        if self._on_progress is None:
            return
        now = time.monotonic()
        last_fraction, last_text, last_time = self._last_progress
        # Only worth a trip to the GUI thread when something visibly changed.
        if text == last_text and now - last_time < self._min_interval and fraction < 1.0:
            return
        if abs(fraction - last_fraction) < 0.005 and text == last_text and fraction < 1.0:
            return
        self._last_progress = (fraction, text, now)
        update = TaskProgress(fraction, text)
        manager = self._manager
        assert manager is not None
        def deliver() -> None:
            if self._alive() and self._on_progress:
                self._on_progress(update)

        manager.run_on_main(deliver)

    def _call(self) -> T:
        params = inspect.signature(self._fn).parameters
        # The signature says which shape ``fn`` has; mypy cannot narrow a callable by its parameters.
        if "cancel" in params:
            if self._cancel is None:
                assert self._manager is not None
                self._cancel = self._manager.new_cancel()
            if "progress" in params:
                return cast("_WorkWithBoth[T]", self._fn)(progress=self._report, cancel=self._cancel)
            return cast("_WorkWithCancel[T]", self._fn)(cancel=self._cancel)
        if "progress" in params:
            return cast("_WorkWithProgress[T]", self._fn)(progress=self._report)
        return cast("Callable[[], T]", self._fn)()

    def _done(self, future: Future[T]) -> None:
        if self._cancel is not None and self._manager is not None:
            self._manager._forget_cancel(self._cancel)
        try:
            error = future.exception()
        except BaseException as exc:  # the future itself was cancelled at shutdown
            error = exc
        if error is not None:
            log_failure(error, self._what)   # logged even when the asking widget is gone
        if not self._alive():
            return
        # A callback that raises propagates to the mailbox, which logs it and reports it.
        try:
            if error is None:
                if self._on_success is not None:
                    self._on_success(future.result())
            else:
                failure = TaskFailure(describe_error(error), error, self._what)
                if self._on_failure is not None:
                    self._on_failure(failure)
                elif not isinstance(error, Cancelled) and self._manager is not None:
                    self._manager.report_failure(failure)
        finally:
            if self._on_finally is not None:
                self._on_finally()

    def run(self) -> Future[T]:
        """Start the work; returns its future (callers rarely need it)."""
        manager = self._manager
        if manager is None:
            raise RuntimeError("No task manager: set Op.manager when the application starts.")
        if self._cancel is None and "cancel" in inspect.signature(self._fn).parameters:
            self._cancel = manager.new_cancel()
        return manager.submit(self._call, self._done, network=self._network, background=self._background)

    @property
    def cancel_event(self) -> threading.Event | None:
        return self._cancel

