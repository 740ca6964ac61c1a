"""Hyperparameter search on Optuna: a Pareto front of validation accuracy (up) against training seconds (down).

One study, shared by any number of workers: processes on one machine through a journal file, machines through
PostgreSQL. Each trial is params.yaml's section with the knobs of search.yaml sampled (the seed stays), trained
by fmnist.training.train_model, the function the train stages use, and scored on the validation split.
"""
import argparse
import contextlib
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from fmnist.atomic import atomic_path, save_figure, write_json
from fmnist.errors import StudyError, first_line, require_input, run_stage
from fmnist.params import PARAMS_FILE, AnnParams, CnnParams, load_params, parse_section, read_yaml
from fmnist.paths import prepared_split

PARAMS_CLASSES = {"ann": AnnParams, "cnn": CnnParams}
SPACE_FILE = Path("search.yaml")
RESULTS_DIR = Path("search")
DEFAULT_STORAGE = RESULTS_DIR / "study.journal"
TRIALS_TABLE = RESULTS_DIR / "trials.csv"
FRONT_FIGURE = RESULTS_DIR / "front.png"
PLOT_DATA = {kind: RESULTS_DIR / "plot" / f"{kind}.json" for kind in ("trials", "front", "default")}
OBJECTIVES = ("validation_accuracy", "seconds")
HEARTBEAT_S, GRACE_S = 30, 180  # PostgreSQL: a worker that stops beating for GRACE_S has its trial failed
WAIT_S = 5  # poll period of a worker waiting for other workers' last trials
KNOB_FORM = "{low: L, high: H} (optionally log: true) or {choices: [...]}"


# ---------------------------------------------------------------------------------------------- search space

@dataclass(frozen=True)
class Knob:
    """One searched key of a params section: a numeric range or a list of choices."""

    name: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    integer: bool = False
    choices: tuple | None = None

    def candidates(self):
        """(label, value) of every value whose validity implies the whole range's: the ends, or each choice."""
        if self.choices is not None:
            return [(f"choice {value!r}", value) for value in self.choices]
        return [(f"low {self.low!r}", self.low), (f"high {self.high!r}", self.high)]

    def sample(self, trial):
        if self.choices is not None:  # Optuna stores only scalars: lists travel as JSON text
            return decode_choice(trial.suggest_categorical(self.name, [encode_choice(c) for c in self.choices]))
        if self.integer:
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        value = trial.suggest_float(self.name, self.low, self.high, log=self.log)
        # trained and recorded with 3 significant digits, so an applied trial reads well in params.yaml
        return min(max(float(f"{value:.3g}"), self.low), self.high)

    def contains(self, value):
        if self.choices is not None:
            return value in self.choices
        return isinstance(value, (int, float)) and self.low <= value <= self.high


def encode_choice(value):
    return json.dumps(value) if isinstance(value, list) else value


def decode_choice(value):
    return json.loads(value) if isinstance(value, str) and value.startswith("[") else value


def params_section(section):
    """params.yaml's `section` as plain YAML data, after the stage's own validation of it."""
    load_params(section, PARAMS_CLASSES[section])
    return read_yaml(PARAMS_FILE, "bin/search")[section]


def load_space(model, path=SPACE_FILE):
    """The knobs of `model` in search.yaml; every section is checked against params.yaml first."""
    document = read_yaml(path, "bin/search")
    if not isinstance(document, dict):
        raise StudyError(f"{path} must map a model ({', '.join(PARAMS_CLASSES)}) to its knobs")
    for section in document:
        if section not in PARAMS_CLASSES:
            raise StudyError(f"{path}: '{section}' is not a model; sections: {', '.join(PARAMS_CLASSES)}")
    if model not in document:
        raise StudyError(f"{path} has no section '{model}': add the {model} knobs to search")
    spaces = {section: parse_space(section, entries, params_section(section), path)
              for section, entries in document.items()}
    return spaces[model]


def parse_space(section, entries, base, path=SPACE_FILE):
    if not isinstance(entries, dict) or not entries:
        raise StudyError(f"{path}: {section} must map knobs of params.yaml's {section} to ranges, got {entries!r}")
    knobs = []
    for name, entry in entries.items():
        key = f"{section}.{name}"
        if name == "seed":
            raise StudyError(f"{path}: {key} cannot be searched: every trial keeps params.yaml's seed; remove it")
        if name not in base:
            raise StudyError(f"{path}: {key} is not a knob of params.yaml's {section} section; "
                             f"knobs: {', '.join(k for k in base if k != 'seed')}")
        knob = parse_knob(key, name, entry, base[name], path)
        for label, value in knob.candidates():
            try:  # the params' own rules decide, whatever their implementation
                parse_section(section, {**base, name: value}, PARAMS_CLASSES[section])
            except StudyError as error:
                raise StudyError(f"{path}: {key} {label} is outside what params.yaml allows ({error})") from None
        knobs.append(knob)
    return knobs


def parse_knob(key, name, entry, current, path):
    if not isinstance(entry, dict):
        raise StudyError(f"{path}: {key} must be {KNOB_FORM}, got {entry!r}")
    if set(entry) == {"choices"}:
        choices = entry["choices"]
        if not isinstance(choices, list) or not choices:
            raise StudyError(f"{path}: {key}.choices must be a non-empty list, got {choices!r}")
        if len({json.dumps(choice) for choice in choices}) < len(choices):
            raise StudyError(f"{path}: {key}.choices lists a value twice: {choices!r}")
        return Knob(name, choices=tuple(choices))
    if set(entry) not in ({"low", "high"}, {"low", "high", "log"}):
        raise StudyError(f"{path}: {key} must be {KNOB_FORM}, got keys {', '.join(map(str, entry))}")
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise StudyError(f"{path}: {key} is {current!r} in params.yaml, not a number: give it choices, not a range")
    integer = isinstance(current, int)
    low, high, log = entry["low"], entry["high"], entry.get("log", False)
    for label, bound in (("low", low), ("high", high)):
        wanted = int if integer else (int, float)
        if isinstance(bound, bool) or not isinstance(bound, wanted):
            kind = "an integer (params.yaml's value is one)" if integer else "a number"
            raise StudyError(f"{path}: {key}.{label} must be {kind}, got {bound!r}")
    if not isinstance(log, bool):
        raise StudyError(f"{path}: {key}.log must be true or false, got {log!r}")
    if low > high:
        raise StudyError(f"{path}: {key}.low {low!r} is above {key}.high {high!r}")
    if log and low <= 0:
        raise StudyError(f"{path}: {key} is log-uniform, so its low must be above 0, got {low!r}")
    if not integer:
        low, high = float(low), float(high)
    return Knob(name, low=low, high=high, log=log, integer=integer)


# ---------------------------------------------------------------------------------------------- storage

def is_url(spec):
    return "://" in spec


def redact(url):
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def open_storage(spec):
    """Optuna storage for `spec`: a journal file path (default) or a postgresql:// / sqlite:/// URL."""
    import optuna

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own line per trial instead of Optuna's
    if is_url(spec):
        if not spec.startswith(("postgresql", "sqlite")):
            raise StudyError(f"--storage {redact(spec)}: only postgresql://... URLs or a file path are supported")
        engine_kwargs = {"connect_args": {"connect_timeout": 10}} if spec.startswith("postgresql") else {}
        try:
            return optuna.storages.RDBStorage(spec, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                              grace_period=GRACE_S)
        except Exception as error:
            raise StudyError(f"cannot open the study database {redact(spec)} ({first_line(error)}): start the "
                             "server and create the database (README, Search), or fix --storage") from None
    path = Path(spec)
    if path.is_dir():
        raise StudyError(f"--storage {path} is a directory: give a file, e.g. {DEFAULT_STORAGE}")
    path.parent.mkdir(parents=True, exist_ok=True)
    from optuna.storages.journal import JournalFileBackend

    try:
        backend = JournalFileBackend(str(path), lock_obj=JournalWriteLock(f"{path}.lock"))
        storage = optuna.storages.JournalStorage(backend)  # replays the whole file
        storage.get_all_studies()
    except Exception as error:
        raise StudyError(f"{path} is not an Optuna study journal ({first_line(error)}): point --storage at a "
                         "study's journal file, or move this one away to start a new study") from None
    return storage


class JournalWriteLock:
    """Optuna's journal write lock as an flock, which the kernel releases when its holder dies.

    Optuna's own lock files outlive a writer killed mid-write: others wait out a 30 s grace period, and
    forever when the journal path is relative (the lock is a symlink that then dangles; Optuna 5.0.0).
    """

    def __init__(self, path):
        self.path, self.handle = path, None

    def acquire(self):
        import fcntl

        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return True

    def release(self):
        if self.handle is not None:
            self.handle.close()  # closing drops the flock
            self.handle = None


def open_study(storage, args, may_create):
    """The study named args.study_name; created (once, before any worker runs) with --create, or on a first
    run into a journal file that holds no study yet."""
    import optuna

    with ClaimLock(args.storage, args.study_name).held():  # commands started at once create it once, whole
        names = [study.study_name for study in storage.get_all_studies()]
        if args.study_name not in names:
            if not (args.create or (may_create and not is_url(args.storage) and not names)):
                holds = f"it holds: {', '.join(names)}" if names else "it holds no study"
                raise StudyError(f"study '{args.study_name}' does not exist in {describe_storage(args.storage)} "
                                 f"({holds}): check --study-name, or create it with `bin/search --create` "
                                 "and the same --storage and --study-name")
            create_study(storage, args)
    study = optuna.load_study(study_name=args.study_name, storage=storage, sampler=make_sampler())
    model = study.user_attrs.get("model")
    if model != args.model:
        raise StudyError(f"study '{args.study_name}' searches the {model}, not the {args.model}: "
                         f"pass --model {model}, or another --study-name")
    return study


def create_study(storage, args):
    import optuna

    study = optuna.create_study(storage=storage, study_name=args.study_name, sampler=make_sampler(),
                                directions=["maximize", "minimize"])
    study.set_metric_names(list(OBJECTIVES))
    study.set_user_attr("model", args.model)
    knobs, current = load_space(args.model), params_section(args.model)
    if all(knob.contains(current[knob.name]) for knob in knobs):  # params.yaml's values, as the first trial
        study.enqueue_trial({knob.name: encode_choice(current[knob.name]) for knob in knobs})
    print(f"created study '{args.study_name}' ({args.model}) in {describe_storage(args.storage)}", flush=True)


def make_sampler():
    import optuna

    # Multi-objective TPE; constant_liar (Optuna's default) keeps parallel workers away from running trials.
    # Unseeded on purpose: workers with one seed would draw the same start-up trials.
    return optuna.samplers.TPESampler(n_startup_trials=10)


def describe_storage(spec):
    return redact(spec) if is_url(spec) else str(spec)


def lock_path(spec):
    if not is_url(spec):
        return Path(spec)
    if spec.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        return Path(make_url(spec).database)
    return None


class ClaimLock:
    """Mutual exclusion of every worker of one study while it counts trials and claims the next one.

    A file lock (flock) on the journal or SQLite file; on PostgreSQL an advisory lock keyed by the study name.
    Both are released by the operating system or the server when their holder dies.
    """

    def __init__(self, spec, study_name):
        self.path = lock_path(spec)
        if self.path is None:
            import sqlalchemy

            self.engine = sqlalchemy.create_engine(spec, connect_args={"connect_timeout": 10},
                                                   poolclass=sqlalchemy.pool.NullPool)
            self.key = zlib.crc32(f"fmnist-search:{study_name}".encode())

    @contextlib.contextmanager
    def held(self):
        if self.path is not None:
            import fcntl

            with open(self.path, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield
            return
        import sqlalchemy

        with self.engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})


# ---------------------------------------------------------------------------------------------- workers

class Stopped(Exception):
    """SIGTERM or SIGINT arrived."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def raise_stopped(signum, frame):
    for name in ("SIGTERM", "SIGINT"):  # a second signal must not interrupt recording the first one's trial
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Stopped(signum)


def this_worker():
    import psutil

    return {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time()}


def is_dead(worker):
    """True when `worker` ran on this machine and its process is gone (a reused pid has another start time)."""
    import psutil

    if worker["host"] != socket.gethostname():
        return False
    try:
        process = psutil.Process(worker["pid"])
        # a killed worker stays a zombie until its parent reaps it: dead all the same
        return abs(process.create_time() - worker["started"]) > 1 or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def fail_trial(study, trial_id, number, reason):
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    try:
        study._storage.set_trial_user_attr(trial_id, "failure", reason)
    except UpdateFinishedTrialError:
        return  # it finished (or another worker failed it) meanwhile
    study.tell(number, state=TrialState.FAIL, skip_if_finished=True)


def fail_dead_trials(study):
    """Mark failed every running trial whose worker died: killed on this machine, or silent past the
    PostgreSQL heartbeat's grace period. Called with the claim lock held."""
    import optuna
    from optuna.trial import TrialState

    optuna.storages.fail_stale_trials(study)  # heartbeats; a no-op on the journal file, which has none
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        # A claimer sets "worker" before it releases the lock: a running trial without one lost its claimer.
        if worker is None or is_dead(worker):
            where = f"{worker['host']}:{worker['pid']}" if worker else "unknown"
            fail_trial(study, trial._trial_id, trial.number, f"worker {where} died during the trial")
            print(f"trial {trial.number}: its worker {where} died; recorded as failed", flush=True)


def claim_trial(study, lock, n_trials):
    """(trial or None, finished, running): a new trial only while finished + running < n_trials, decided
    under the lock, so several workers can never start more trials than asked for."""
    from optuna.trial import TrialState

    with lock.held():
        fail_dead_trials(study)
        states = Counter(trial.state for trial in study.get_trials(deepcopy=False))
        finished, running = states[TrialState.COMPLETE], states[TrialState.RUNNING]
        if finished + running >= n_trials:
            return None, finished, running
        trial = study.ask()
        trial.set_user_attr("worker", this_worker())
        return trial, finished, running


@contextlib.contextmanager
def heartbeat(study, trial):
    """On PostgreSQL, record the trial's heartbeat while it runs (Optuna's optimize() does this itself)."""
    storage = study._storage
    if not (hasattr(storage, "get_heartbeat_interval") and storage.get_heartbeat_interval()):
        yield
        return
    stop = threading.Event()

    def beat():
        while True:
            with contextlib.suppress(Exception):
                storage.record_heartbeat(trial._trial_id)
            if stop.wait(HEARTBEAT_S):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def load_data():
    """The prepared (train, validation) splits; the test split is never read here."""
    from fmnist.data import load_split

    return tuple(load_split(prepared_split(split)) for split in ("train", "validation"))


def score_trial(params, model, data):
    """(validation accuracy, training seconds) of params, trained by the train stages' own function."""
    import numpy as np

    from fmnist.models import build_ann, build_cnn
    from fmnist.training import deployed_model, train_model

    train, validation = data
    build = {"ann": build_ann, "cnn": build_cnn}[model]
    with tempfile.TemporaryDirectory(prefix="fmnist-search-") as live_dir, \
            contextlib.redirect_stdout(io.StringIO()):  # Keras's per-epoch lines: one line per trial instead
        start = time.perf_counter()
        trained = train_model(params, build, train, validation, Path(live_dir) / "live")
        seconds = time.perf_counter() - start
        probabilities = deployed_model(trained, params).predict(validation[0], batch_size=512, verbose=0)
    # the saved model's answer (flip-averaged when test_time_flip), as the evaluate stage would score it
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == validation[1]))
    return accuracy, seconds


def run_worker(args, study, knobs, data):
    """Claim and run trials until the study holds args.trials finished ones."""
    lock = ClaimLock(args.storage, args.study_name)
    base = params_section(args.model)
    told_waiting = False
    while True:
        trial, finished, running = claim_trial(study, lock, args.trials)
        if trial is None:
            if finished >= args.trials:
                return
            if not told_waiting:
                print(f"[{finished}/{args.trials}] waiting for {running} running trial(s) of other workers", flush=True)
                told_waiting = True
            time.sleep(WAIT_S)
            continue
        told_waiting = False
        try:
            with heartbeat(study, trial):
                values = {knob.name: knob.sample(trial) for knob in knobs}
                trial.set_user_attr("params", values)
                params = parse_section(args.model, {**base, **values}, PARAMS_CLASSES[args.model])
                result = score_trial(params, args.model, data)
            finished = tell_trial(study, lock, trial, result)
        except Stopped as stop:
            fail_trial(study, trial._trial_id, trial.number, f"stopped by {stop}")
            print(f"trial {trial.number}: stopped by {stop}; recorded as failed", file=sys.stderr, flush=True)
            raise
        except Exception as error:
            fail_trial(study, trial._trial_id, trial.number, f"{type(error).__name__}: {first_line(error)}")
            raise StudyError(f"trial {trial.number} failed ({type(error).__name__}: {first_line(error)}); it is "
                             "recorded as failed: fix the cause, then run the same command again to resume") from None
        print_progress(study, trial.number, values, result, finished, args.trials)


def tell_trial(study, lock, trial, result):
    """Record the trial's result; returns the finished count it made, under the lock so that each is unique."""
    from optuna.trial import TrialState

    with lock.held():
        study.tell(trial, result)
        return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def print_progress(study, number, values, result, finished, n_trials):
    front = sorted(study.best_trials, key=lambda trial: trial.values[1])
    knobs = " ".join(f"{name}={format_value(value)}" for name, value in values.items())
    shown = ", ".join(f"#{trial.number} {trial.values[0]:.4f}/{trial.values[1]:.0f}s" for trial in front)
    print(f"[{finished}/{n_trials}] trial {number}: validation accuracy {result[0]:.4f}, {result[1]:.1f} s | "
          f"{knobs} | front: {shown}", flush=True)


def format_value(value):
    return f"{value:.4g}" if isinstance(value, float) else json.dumps(value, separators=(",", ":"))


def run_workers(args):
    """Start args.workers worker processes on the created study, pass SIGTERM/SIGINT on, wait for all."""
    command = [sys.executable, "-m", "fmnist.search", "--model", args.model, "--trials", str(args.trials),
               "--storage", args.storage, "--study-name", args.study_name, "--workers", "1", "--no-report"]
    children = [subprocess.Popen(command) for _ in range(args.workers)]

    def forward(signum, frame):
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return next((code for code in codes if code), 0)


# ---------------------------------------------------------------------------------------------- results

def trial_rows(study, model):
    """One dict per trial, with its state, objectives, knob values, and whether it is on the front or the
    trial of params.yaml's current values."""
    from optuna.trial import TrialState

    front = {trial.number for trial in study.best_trials}
    current = params_section(model)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        values = trial.user_attrs.get("params", {})
        complete = trial.state == TrialState.COMPLETE
        worker = trial.user_attrs.get("worker")
        rows.append({
            "trial": trial.number,
            "state": trial.state.name.lower(),
            "validation_accuracy": round(trial.values[0], 6) if complete else None,
            "seconds": round(trial.values[1], 2) if complete else None,
            "front": trial.number in front,
            "default": complete and bool(values) and all(current.get(k) == v for k, v in values.items()),
            "params": values,
            "worker": f"{worker['host']}:{worker['pid']}" if worker else "",
            "note": trial.user_attrs.get("failure", ""),
        })
    return rows


def write_report(study, model):
    """search/trials.csv, the DVC plot data under search/plot/ and search/front.png, each written atomically."""
    rows = trial_rows(study, model)
    knob_names = list(dict.fromkeys(name for row in rows for name in row["params"]))
    columns = ["trial", "state", "validation_accuracy", "seconds", "front", "default", *knob_names, "worker", "note"]
    with atomic_path(TRIALS_TABLE) as temp:
        with open(temp, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, columns)
            writer.writeheader()
            for row in rows:
                knobs = {name: format_cell(row["params"].get(name)) for name in knob_names}
                writer.writerow({**{k: v for k, v in row.items() if k != "params"}, **knobs,
                                 "validation_accuracy": format_cell(row["validation_accuracy"]),
                                 "seconds": format_cell(row["seconds"])})
    complete = [row for row in rows if row["state"] == "complete"]
    points = {"trials": complete, "front": [row for row in complete if row["front"]],
              "default": [row for row in complete if row["default"]]}
    for kind, chosen in points.items():
        write_json(PLOT_DATA[kind], [{"trial": row["trial"], "seconds": row["seconds"],
                                      "validation_accuracy": row["validation_accuracy"]} for row in chosen])
    save_figure(front_figure(points, model), FRONT_FIGURE)
    return rows


def format_cell(value):
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, list) else value


def front_figure(points, model):
    """Validation accuracy against training seconds: every finished trial, the front joined, params.yaml's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    every, front, default = points["trials"], points["front"], points["default"]
    axes.scatter([r["seconds"] for r in every], [r["validation_accuracy"] for r in every], s=18, color="0.6",
                 label="trial")
    front = sorted(front, key=lambda row: row["seconds"])
    axes.step([r["seconds"] for r in front], [r["validation_accuracy"] for r in front], where="post",
              color="tab:blue", marker="o", label="Pareto front")
    for row in front:
        axes.annotate(f"#{row['trial']}", (row["seconds"], row["validation_accuracy"]), textcoords="offset points",
                      xytext=(4, -10), fontsize=8)
    if default:
        axes.scatter([r["seconds"] for r in default], [r["validation_accuracy"] for r in default], marker="*",
                     s=160, color="tab:red", zorder=3, label="params.yaml's values")
    axes.set_xlabel("training seconds")
    axes.set_ylabel("validation accuracy")
    axes.set_title(f"{model.upper()} search: {len(every)} finished trials")
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    return figure


def print_report(rows, args):
    finished = [row for row in rows if row["state"] == "complete"]
    failed = len(rows) - len(finished)
    print(f"study '{args.study_name}' ({args.model}): {len(finished)} finished, {failed} failed or running; "
          f"wrote {TRIALS_TABLE}, {FRONT_FIGURE}, {PLOT_DATA['trials'].parent}/")
    for row in sorted((row for row in finished if row["front"]), key=lambda row: row["seconds"]):
        knobs = " ".join(f"{name}={format_value(value)}" for name, value in row["params"].items())
        mark = " (params.yaml)" if row["default"] else ""
        print(f"  front #{row['trial']}: {row['validation_accuracy']:.4f} in {row['seconds']:.0f} s{mark} | {knobs}")
    if finished:
        print("apply one: bin/search --apply TRIAL (same --storage and --study-name); or run one as a DVC "
              "experiment, test metrics included:")
        for row in sorted((row for row in finished if row["front"]), key=lambda row: row["seconds"]):
            print("  " + experiment_command(row, args))


def experiment_command(row, args):
    """`dvc exp run` that sets the trial's values: the same training, through the pipeline."""
    changes = " ".join(f"-S '{args.model}.{name}={exact_text(value)}'" for name, value in row["params"].items())
    return f"dvc exp run -n {args.study_name}-trial-{row['trial']} {changes}"


# ---------------------------------------------------------------------------------------------- apply

def apply_trial(study, number, model, path=PARAMS_FILE):
    """Write trial `number`'s knob values into params.yaml's section, keeping every comment and the layout."""
    from optuna.trial import TrialState
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq

    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    if number not in trials:
        held = f"trials: 0 to {len(trials) - 1}" if trials else "no trials yet"
        raise StudyError(f"study '{study.study_name}' has no trial {number} ({held}): see `bin/search --report`")
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        raise StudyError(f"trial {number} is {trial.state.name.lower()}: only a finished trial can be applied")
    values = trial.user_attrs["params"]
    base = params_section(model)
    parse_section(model, {**base, **values}, PARAMS_CLASSES[model])  # refuse before writing anything

    document_yaml = YAML()
    document_yaml.indent(mapping=2, sequence=4, offset=2)  # params.yaml's layout: round-trips byte for byte
    document_yaml.representer.add_representer(float, represent_float)
    document = document_yaml.load(Path(path).read_text(encoding="utf-8"))
    changes = []
    for name, value in values.items():
        if base[name] == value:
            continue
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        document[model][name] = value
        changes.append(f"{model}.{name}: {format_value(base[name])} -> {format_value(values[name])}")
    with atomic_path(path) as temp:
        with open(temp, "w", encoding="utf-8") as stream:
            document_yaml.dump(document, stream)
    load_params(model, PARAMS_CLASSES[model], path)
    return changes


def represent_float(representer, value):
    return representer.represent_scalar("tag:yaml.org,2002:float", exact_text(value))


def exact_text(value):
    """A value as YAML text that reads back exactly; floats as plain decimals, since PyYAML (which the stages
    read params.yaml with) takes 1e-05 for a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        import numpy as np

        text = repr(value)
        return np.format_float_positional(value, trim="0") if "e" in text else text
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


# ---------------------------------------------------------------------------------------------- command line

def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bin/search", description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(PARAMS_CLASSES), default="cnn", help="model to search (default cnn)")
    parser.add_argument("--trials", type=int, default=40, help="finished trials the study stops at (default 40)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    parser.add_argument("--storage", default=str(DEFAULT_STORAGE),
                        help=f"journal file (default {DEFAULT_STORAGE}) or postgresql://USER@HOST:PORT/DB")
    parser.add_argument("--study-name", help="study name (default: the model's name)")
    actions = parser.add_mutually_exclusive_group()
    actions.add_argument("--create", action="store_true", help="create the study, run nothing (before many workers)")
    actions.add_argument("--report", action="store_true", help="write the results table and front plot, run nothing")
    actions.add_argument("--apply", type=int, metavar="TRIAL", help="write TRIAL's values into params.yaml")
    parser.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)  # workers of --workers N
    args = parser.parse_args(argv)
    if args.trials < 1 or args.workers < 1:
        parser.error("--trials and --workers must be at least 1")
    args.study_name = args.study_name or args.model
    return args


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_stopped)
    signal.signal(signal.SIGINT, raise_stopped)
    try:
        run_command(args)
    except Stopped as stop:
        sys.exit(128 + stop.signum)


def run_command(args):
    if not (args.report or args.apply is not None):
        knobs = load_space(args.model)  # the whole space, checked before any study or trial
        for split in ("train", "validation"):
            require_input(prepared_split(split), "preprocess")
    elif not is_url(args.storage) and not Path(args.storage).is_file():
        raise StudyError(f"no study journal at {args.storage}: run a search first, or pass its --storage")
    storage = open_storage(args.storage)
    study = open_study(storage, args, may_create=not (args.report or args.apply is not None))
    if args.create:
        return
    if args.apply is not None:
        changes = apply_trial(study, args.apply, args.model)
        print(f"params.yaml: trial {args.apply} applied: {'; '.join(changes) or 'no change'}")
        print(f"next: dvc status (train_{args.model} is stale), dvc repro, dvc metrics diff")
        return
    code = 0
    if not args.report:
        if args.workers > 1:
            code = run_workers(args)
        else:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            run_worker(args, study, knobs, load_data())
    if not args.no_report:
        print_report(write_report(study, args.model), args)
    if code:
        sys.exit(code)


if __name__ == "__main__":
    run_stage(main)
