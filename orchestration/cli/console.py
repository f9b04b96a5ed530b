"""The console of a `dxmon` command: what a person watching a run reads, and a log file with
everything else.

Without `-v`, a command that runs a Dagster job prints

* the path of its log file (`data/logs/<timestamp>-<command>.log`) at the start and at the end;
* one line per step when it ends: `<partition range>  <step key>  <rows>  <seconds>  ok|WARN|FAILED`
  (rows from the step's materialization metadata when it reports them: `dagster/row_count`, or the
  `rows_loaded`/`rows_rejected` counts the loaders put there; WARN when an asset check of the step
  failed);
* warnings and errors in plain words: Python WARNING+ records (the loaders name the file, the
  rule and the reason), `context.log.warning/error` of a step, failed asset checks with what
  failed, a failed step's error message;
* progress for long steps: every ~10 s a line with what is running, the dbt nodes done / total
  (counted from dbt's own stream) and the rows the loaders reported so far with rows per second;
  on a terminal (stdout a TTY) the same as a status line rewritten in place (`\\r`) every second.

The log file receives the full Dagster event stream at DEBUG (every event, as Dagster's console
logger formats it), dbt's output (dagster-dbt writes it to `sys.stdout`, captured here for the
time of the job), and every Python logger (INFO, DEBUG with `-v`) including Python warnings.
`dxmon -v` restores the full stream on the console as well (Dagster's colored console logger at
DEBUG, dbt's lines, Python logging at DEBUG on stderr) and still writes the log file.

How: the job is run with its loggers replaced (`JobDefinition.with_logger_defs` and the run
config's `loggers` section; Dagster only starts the loggers named there) by one logger that
receives every Dagster record with its `DagsterEvent` (`record.dagster_meta`), writes it to the
file and turns the step events (STEP_START, STEP_SUCCESS, STEP_FAILURE, ASSET_MATERIALIZATION,
ASSET_CHECK_EVALUATION) into the lines above.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROGRESS_EVERY_S = 10.0  # a progress line at least this often while a step runs (plain output)
TTY_REFRESH_S = 1.0  # the status line of a terminal is rewritten this often
MAX_WARNINGS_PER_STEP = 20  # more go to the log file only, with a count on the console
# dbt's node lines as dagster-dbt re-emits them: "12 of 117 START sql view model ...", "12 of 117 OK created ..."
DBT_NODE_LINE = re.compile(r"^\s*(\d+) of (\d+) (START|OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)\b")
# what the loaders log per file or page: "... : 1234 rows (5 rejected)", "... (1000 items, ...)"
LOADER_ROWS = re.compile(r"(\d+) (?:rows|items)\b")

_session: ConsoleSession | None = None


def command_slug(argv: list[str]) -> str:
    """The command's words without options, for the log file's name: `dti-run`, `demo-run`."""
    words = [a for a in argv if not a.startswith("-")]
    words = [w for w in words if re.fullmatch(r"[a-z][a-z0-9_-]*", w)][:2]
    return "-".join(words) or "dxmon"


def logs_dir() -> Path:
    from ingestion.core.warehouse import data_dir

    return data_dir() / "logs"


class _NotDagsterEvent(logging.Filter):
    """Records Dagster already handed to the job's logger (they carry `dagster_meta`) are written
    by that logger; the root handlers leave them out so nothing is written twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not hasattr(record, "dagster_meta")


class _PlainFormatter(logging.Formatter):
    """A Python warning or error as a person reads it: `WARNING: <message> (<logger>)`."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage().strip()
        if record.name == "py.warnings":
            text = text.splitlines()[0] if text else text
        return f"{record.levelname}: {text} ({record.name})"


class ConsoleSession:
    """The logging of one `dxmon` command: a log file (opened on first use), the console handler
    (WARNING+ in plain words, or the full stream with `verbose`), and the job reporter."""

    def __init__(self, command: str, verbose: bool = False, stream=None):
        self.verbose = verbose
        self.stream = stream  # the console (stdout) at the start of the command; None: sys.stdout
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        self.log_path = logs_dir() / f"{stamp}-{command}.log"
        n = 1
        while self.log_path.exists():  # two commands of the same name within a second
            n += 1
            self.log_path = logs_dir() / f"{stamp}-{command}-{n}.log"
        self.file_handler: logging.FileHandler | None = None
        self.console_handler: logging.Handler | None = None
        self.announced = False
        self._saved_level: int | None = None
        self.lock = threading.RLock()
        self.framework_notes = 0  # Python warnings and Dagster's own warnings kept off the console
        self.framework_example: str | None = None

    # -- set-up --------------------------------------------------------------------------------
    def install(self) -> ConsoleSession:
        global _session
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        root = logging.getLogger()
        self._saved_level = root.level
        root.setLevel(logging.DEBUG if self.verbose else logging.INFO)
        self.file_handler = logging.FileHandler(self.log_path, encoding="utf-8", delay=True)
        self.file_handler.setLevel(logging.DEBUG)
        self.file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        self.file_handler.addFilter(_NotDagsterEvent())
        console = logging.StreamHandler(sys.stderr)
        if self.verbose:
            console.setLevel(logging.DEBUG)
            console.setFormatter(logging.Formatter(LOG_FORMAT))
        else:
            console.setLevel(logging.WARNING)
            console.setFormatter(_PlainFormatter())
            console.addFilter(_NotDagsterEvent())
            # Python warnings (Dagster's BetaWarnings at import...) and the framework's own loggers
            # (dagster._core...: e.g. a blocking check without a result because the reference data
            # was not rebuilt) are for developers: log file only, counted (`framework_notes`)
            console.addFilter(self._for_people)
        self.console_handler = console
        root.addHandler(self.file_handler)
        root.addHandler(console)
        logging.captureWarnings(True)
        _session = self
        return self

    def _for_people(self, record: logging.LogRecord) -> bool:
        if record.name == "py.warnings" or record.name.startswith("dagster"):
            self.framework_notes += 1
            if self.framework_example is None:
                self.framework_example = record.getMessage().strip().splitlines()[0][:160] if record.msg else ""
            return False
        return True

    def uninstall(self) -> None:
        global _session
        root = logging.getLogger()
        for handler in (self.file_handler, self.console_handler):
            if handler is not None:
                root.removeHandler(handler)
                handler.close()
        logging.captureWarnings(False)
        if self._saved_level is not None:
            root.setLevel(self._saved_level)
        if _session is self:
            _session = None

    @property
    def console(self):
        return self.stream or sys.stdout

    @property
    def log_written(self) -> bool:
        return self.log_path.is_file()

    def write_file(self, level: int, name: str, message: str) -> None:
        """One record straight into the log file (dbt's lines, Dagster's events)."""
        if self.file_handler is not None:
            record = logging.makeLogRecord({"name": name, "levelno": level, "levelname": logging.getLevelName(level),
                                            "msg": message, "args": ()})
            self.file_handler.handle(record)

    def announce(self) -> None:
        """The log file's path, once, before the first job (the file is created then)."""
        if not self.announced:
            self.announced = True
            self.write_file(logging.INFO, "dxmon", f"log of {self.log_path.stem}")
            self.print(f"log: {self.log_path}" + ("" if self.verbose else " (dxmon -v: the full stream here)"))

    def finish(self) -> None:
        """The log file's path again at the end, when a job ran or something was logged."""
        if self.announced:
            self.print(f"full log: {self.log_path}")
        elif self.log_written:
            print(f"log: {self.log_path}", file=sys.stderr)

    def print(self, text: str) -> None:
        with self.lock:
            out = self.console
            out.write(text + "\n")
            out.flush()


def current_session() -> ConsoleSession | None:
    return _session


@contextmanager
def command_session(command: str, verbose: bool) -> Iterator[ConsoleSession]:
    """The logging of one command (orchestration/cli/__init__.py::main)."""
    session = ConsoleSession(command, verbose, stream=sys.stdout).install()
    try:
        yield session
    finally:
        try:
            session.finish()
        finally:
            session.uninstall()


# ---------------------------------------------------------------------------------------------
# the job reporter

def partition_label(tags: Mapping[str, str]) -> str:
    """The run's partition range as printed: `2025-07`, `2025-02..2025-08`, or `-`."""
    def month(key: str) -> str:
        return key[:7] if re.fullmatch(r"\d{4}-\d{2}-01", key or "") else key

    if tags.get("dagster/partition"):
        return month(tags["dagster/partition"])
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if start and end:
        return month(start) if start == end else f"{month(start)}..{month(end)}"
    return "-"


def _metadata_value(value):
    """The plain Python value of a Dagster metadata value (json, int, text...)."""
    return getattr(value, "value", value)


def _sum_key(obj, key: str) -> int | None:
    """The sum of every `key` number anywhere inside a JSON-like value (None when there is none)."""
    total, found = 0, False
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if k == key and isinstance(v, int) and not isinstance(v, bool):
                    total, found = total + v, True
                elif isinstance(v, dict | list):
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return total if found else None


def rows_of_metadata(metadata: Mapping) -> tuple[int | None, int | None]:
    """(rows, rejected rows) a materialization reports: `dagster/row_count`, else the loaders'
    `rows_loaded` / `rows_rejected` counts anywhere in its metadata (summed over its months)."""
    plain = {k: _metadata_value(v) for k, v in (metadata or {}).items()}
    if isinstance(plain.get("dagster/row_count"), int):
        return plain["dagster/row_count"], None
    return _sum_key(plain, "rows_loaded"), _sum_key(plain, "rows_rejected")


def _check_failure_text(evaluation) -> str:
    """What a failed asset check says, shortly: its description, or the failed expectations of
    the project's GX checks (`months` metadata: expectation, column, unexpected count)."""
    if getattr(evaluation, "description", None):
        return evaluation.description
    months = _metadata_value((evaluation.metadata or {}).get("months"))
    parts = []
    if isinstance(months, dict):
        for month, info in months.items():
            for f in (info or {}).get("failed", []) if isinstance(info, dict) else []:
                where = f" column {f['column']}" if f.get("column") else ""
                count = f", {f['unexpected_count']} rows" if f.get("unexpected_count") is not None else ""
                parts.append(f"{month} {f.get('expectation')}{where}{count}")
    for key in ("dagster_dbt/failed_row_count", "failed_row_count"):
        value = _metadata_value((evaluation.metadata or {}).get(key))
        if isinstance(value, int):
            parts.append(f"{value} failing rows")
    shown = "; ".join(parts[:4]) + (f"; ... {len(parts) - 4} more" if len(parts) > 4 else "")
    return shown or "failed"


@dataclass
class StepState:
    key: str
    started: float
    rows: int | None = None
    rejected: int | None = None
    failed_checks: int = 0
    warnings: int = 0
    loader_rows: int = 0  # rows the loaders reported while the step runs (progress)
    dbt_done: int = 0
    dbt_total: int = 0
    dbt_started: set = field(default_factory=set)


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class JobReporter:
    """Receives one job's Dagster records and dbt's stdout lines; prints the step lines,
    warnings and progress; writes everything to the log file."""

    def __init__(self, session: ConsoleSession, job_name: str, label: str, tty: bool | None = None):
        self.session = session
        self.job_name = job_name
        self.label = label
        self.partitions = "-"
        self.steps: dict[str, StepState] = {}
        self.lock = threading.RLock()
        self.tty = session.console.isatty() if tty is None else tty
        self._status_shown = False
        self._last_progress = time.monotonic()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.failed_steps: list[str] = []

    # -- console output ----------------------------------------------------------------------
    def _emit(self, text: str) -> None:
        """A line on the console (never in verbose mode: the full stream is there already)."""
        if self.session.verbose:
            return
        with self.session.lock:
            if self._status_shown:
                self.session.console.write("\r\033[K")
                self._status_shown = False
            self.session.print(text)

    def step_line(self, step: StepState, outcome: str) -> str:
        seconds = time.monotonic() - step.started
        rows = ""
        if step.rows is not None:
            rows = f"{step.rows:,} rows" + (f" ({step.rejected:,} rejected)" if step.rejected else "")
        return f"  {self.partitions}  {step.key:<26} {rows:>25} {_fmt_seconds(seconds):>9}  {outcome}"

    # -- Dagster records ---------------------------------------------------------------------
    def handle_record(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        self.session.write_file(record.levelno, "dagster", record.getMessage())
        if self.session.verbose:
            return
        if meta.get("job_tags") and self.partitions == "-":
            self.partitions = partition_label(meta["job_tags"])
        event = meta.get("dagster_event")
        step_key = meta.get("step_key")
        if event is None:
            if record.levelno >= logging.WARNING:
                self._step_warning(step_key, f"{record.levelname}: {meta.get('orig_message', record.getMessage())}")
            elif step_key and step_key in self.steps:
                self._loader_progress(self.steps[step_key], meta.get("orig_message") or "")
            return
        kind = event.event_type_value
        with self.lock:
            if kind == "STEP_START":
                self.steps[event.step_key] = StepState(event.step_key, time.monotonic())
                self._last_progress = time.monotonic()
            elif kind == "ASSET_MATERIALIZATION":
                step = self.steps.get(event.step_key)
                if step is not None:
                    rows, rejected = rows_of_metadata(event.step_materialization_data.materialization.metadata)
                    # the assets of one multi-asset step report the same load: the largest, not the sum
                    if rows is not None and (step.rows is None or rows > step.rows):
                        step.rows, step.rejected = rows, rejected
            elif kind == "ASSET_CHECK_EVALUATION":
                evaluation = event.asset_check_evaluation_data
                if not evaluation.passed:
                    step = self.steps.get(event.step_key)
                    if step is not None:
                        step.failed_checks += 1
                    severity = getattr(getattr(evaluation, "severity", None), "value", "WARN")
                    self._step_warning(event.step_key, f"check {evaluation.asset_key.to_user_string()} "
                                                       f"{evaluation.check_name} failed ({severity}): "
                                                       f"{_check_failure_text(evaluation)}", count=False)
            elif kind == "STEP_SUCCESS":
                step = self.steps.pop(event.step_key, None) or StepState(event.step_key, time.monotonic())
                self._emit(self.step_line(step, "WARN" if step.failed_checks else "ok"))
                if step.rejected:
                    month = self.partitions if re.fullmatch(r"\d{4}-\d{2}", self.partitions) else "YYYY-MM"
                    self._emit(f"    {step.rejected:,} rows rejected: rule, file, row and field in "
                               f"`dxmon quarantine --month {month}`")
            elif kind == "STEP_FAILURE":
                step = self.steps.pop(event.step_key, None) or StepState(event.step_key, time.monotonic())
                self.failed_steps.append(event.step_key)
                self._emit(self.step_line(step, "FAILED"))
                error = event.step_failure_data.error if event.step_failure_data else None
                if error is not None:
                    # a dagster.Failure is the step's own words: without the class name
                    message = re.sub(r"^dagster\._core\.definitions\.events\.Failure: ", "", error.message.strip())
                    self._emit(f"    error: {message[:2000]}")
            elif kind == "STEP_SKIPPED":
                self._emit(f"  {self.partitions}  {event.step_key:<26} {'':>25} {'':>9}  skipped")

    def _step_warning(self, step_key: str | None, text: str, count: bool = True) -> None:
        step = self.steps.get(step_key) if step_key else None
        if step is not None:
            step.warnings += 1
            if step.warnings == MAX_WARNINGS_PER_STEP + 1:
                self._emit(f"    ... more warnings of {step_key} in the log file")
            if step.warnings > MAX_WARNINGS_PER_STEP:
                return
        lines = text.strip().splitlines() or [""]
        self._emit(f"    {lines[0][:1000]}" + (" (more in the log file)" if len(lines) > 1 else ""))

    # -- progress ----------------------------------------------------------------------------
    def _loader_progress(self, step: StepState, message: str) -> None:
        match = LOADER_ROWS.search(message)
        if match:
            step.loader_rows += int(match.group(1))

    def python_record(self, record: logging.LogRecord) -> None:
        """A Python logger's record during the job (the loaders' per-file counts: progress)."""
        if record.name.startswith(("ingestion.", "expectations.")) and record.levelno < logging.WARNING:
            with self.lock:
                for step in self.steps.values():
                    self._loader_progress(step, record.getMessage())

    def stdout_line(self, line: str) -> None:
        """A line dagster-dbt (or anything else) wrote to stdout during the job."""
        self.session.write_file(logging.INFO, "stdout", line)
        match = DBT_NODE_LINE.match(line)
        if not match:
            return
        with self.lock:
            for step in self.steps.values():
                step.dbt_total = int(match.group(2))
                if match.group(3) != "START":
                    step.dbt_done += 1

    def progress_text(self) -> str | None:
        with self.lock:
            if not self.steps:
                return None
            now = time.monotonic()
            parts = []
            for step in self.steps.values():
                elapsed = now - step.started
                what = f"{step.key} {_fmt_seconds(elapsed)}"
                if step.dbt_total:
                    done, total = min(step.dbt_done, step.dbt_total), step.dbt_total
                    width = 20
                    bar = "#" * int(width * done / total) + "." * (width - int(width * done / total))
                    what += f" [{bar}] dbt {done}/{total} nodes"
                if step.loader_rows:
                    what += f", {step.loader_rows:,} rows loaded ({step.loader_rows / max(elapsed, 0.1):,.0f} rows/s)"
                parts.append(what)
            return "  ... running: " + "; ".join(parts)

    def tick(self) -> None:
        """One beat of the progress: on a terminal, the status line rewritten in place; else a
        plain line when the last one is PROGRESS_EVERY_S old."""
        text = self.progress_text()
        if text is None:
            return
        with self.session.lock:
            if self.tty:
                width = _terminal_width()
                self.session.console.write("\r\033[K" + text[: width - 1])
                self.session.console.flush()
                self._status_shown = True
            elif time.monotonic() - self._last_progress >= PROGRESS_EVERY_S:
                self._last_progress = time.monotonic()
                self.session.print(text)

    def _tick(self) -> None:
        while not self._stop.wait(TTY_REFRESH_S if self.tty else 1.0):
            self.tick()

    def start(self) -> None:
        if not self.session.verbose:
            self._ticker = threading.Thread(target=self._tick, name="dxmon-progress", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        with self.session.lock:
            if self._status_shown:
                self.session.console.write("\r\033[K")
                self.session.console.flush()
                self._status_shown = False


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


class _ReporterHandler(logging.Handler):
    def __init__(self, reporter: JobReporter):
        super().__init__(logging.DEBUG)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.reporter.handle_record(record)
        except Exception:  # the console must never fail a run
            self.handleError(record)


class _PythonRecordTap(logging.Handler):
    """On the root logger during the job: the loaders' INFO records feed the progress."""

    def __init__(self, reporter: JobReporter):
        super().__init__(logging.INFO)
        self.reporter = reporter
        self.addFilter(_NotDagsterEvent())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.reporter.python_record(record)
        except Exception:
            self.handleError(record)


class _StdoutCapture(io.TextIOBase):
    """`sys.stdout` for the time of a job: each line to the reporter (the log file, dbt's node
    count); with -v also to the console as before. No `fileno`: Dagster's compute-log capture
    then leaves the real file descriptor alone (dagster._core.execution.compute_logs._fileno)."""

    def __init__(self, reporter: JobReporter, tee):
        self.reporter = reporter
        self.tee = tee
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.tee is not None:
            self.tee.write(text)
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self.reporter.stdout_line(line)
        return len(text)

    def flush(self) -> None:
        if self.tee is not None:
            self.tee.flush()

    def close_buffer(self) -> None:
        if self._buffer:
            self.reporter.stdout_line(self._buffer)
            self._buffer = ""


def job_logger_def(reporter: JobReporter):
    """The Dagster logger of a run: every record (DEBUG) to the reporter."""
    import dagster as dg

    def build(_init_context) -> logging.Logger:
        log = logging.Logger("dxmon.dagster", level=logging.DEBUG)  # not in the hierarchy: no propagation
        log.addHandler(_ReporterHandler(reporter))
        return log

    return dg.LoggerDefinition(build, description="dxmon console: step lines on the console, every event in the log")


@contextmanager
def reported_job(job, name: str, label: str, run_config: Mapping | None) -> Iterator[tuple]:
    """(job, run_config, reporter) to run `job` with the console of the current command (a
    session of its own when the job runs outside `dxmon`'s main, e.g. from a test)."""
    session = current_session()
    own = session is None
    if own:
        session = ConsoleSession(name, verbose=False, stream=sys.stdout).install()
    try:
        session.announce()
        reporter = JobReporter(session, name, label)
        loggers = {"dxmon_console": job_logger_def(reporter)}
        config = dict(run_config or {})
        logger_config = dict(config.get("loggers") or {})
        logger_config["dxmon_console"] = {"config": {}}
        if session.verbose:
            from dagster import colored_console_logger

            loggers["console"] = colored_console_logger
            logger_config.setdefault("console", {"config": {"log_level": "DEBUG"}})
        config["loggers"] = logger_config
        tap = _PythonRecordTap(reporter)
        logging.getLogger().addHandler(tap)
        saved_stdout = sys.stdout
        capture = _StdoutCapture(reporter, saved_stdout if session.verbose else None)
        sys.stdout = capture
        notes_before = session.framework_notes
        session.framework_example = None
        reporter.start()
        try:
            yield job.with_logger_defs(loggers), config, reporter
        finally:
            reporter.stop()
            capture.close_buffer()
            sys.stdout = saved_stdout
            logging.getLogger().removeHandler(tap)
            notes = session.framework_notes - notes_before
            if notes and not session.verbose:
                session.print(f"  {notes} warnings of Dagster itself, in the log file only "
                              f"(the first: {session.framework_example})")
    finally:
        if own:
            session.finish()
            session.uninstall()
