"""The study's storage (a journal file or a database URL), the study created once and loaded, and its locks."""
import contextlib
import fcntl
import warnings
import zlib
from pathlib import Path

import optuna
import sqlalchemy
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url

from fmnist.errors import StudyError, first_line
from fmnist.search import RESULTS_DIR
from fmnist.search.space import encode_choice, load_space, params_section

DEFAULT_STORAGE = RESULTS_DIR / "study.journal"
OBJECTIVES = ("validation_accuracy", "seconds")
HEARTBEAT_S, GRACE_S = 30, 180  # a database: a worker that stops beating for GRACE_S has its trial failed


def is_url(spec):
    return "://" in spec


def redact(url):
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def describe_storage(spec):
    return redact(spec) if is_url(spec) else str(spec)


def open_storage(spec):
    """Optuna storage for `spec`: a journal file path (default) or a postgresql:// / sqlite:/// URL.

    Callers keep this object: Optuna's Study does not expose its storage, whose methods the workers need.
    """
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
                             "server and create the database (docs/search.md), or fix --storage") from None
    path = Path(spec)
    if path.is_dir():
        raise StudyError(f"--storage {path} is a directory: give a file, e.g. {DEFAULT_STORAGE}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        backend = JournalFileBackend(str(path), lock_obj=JournalWriteLock(f"{path}.lock"))
        storage = optuna.storages.JournalStorage(backend)  # replays the whole file
        storage.get_all_studies()
    except Exception as error:
        raise StudyError(f"{path} is not an Optuna study journal ({first_line(error)}): point --storage at a "
                         "study's journal file, or move this one away to start a new study") from None
    return storage


def trial_id(study, storage, number):
    """The storage's id of trial `number`, which storage methods take and Optuna's trial objects keep private."""
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study.study_name), number)


def open_study(storage, args, may_create):
    """The study named args.study_name; created (once, before any worker runs) with --create, or on a first
    run into a journal file that holds no study yet."""
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
    study = optuna.create_study(storage=storage, study_name=args.study_name, sampler=make_sampler(),
                                directions=["maximize", "minimize"])
    study.set_metric_names(list(OBJECTIVES))
    study.set_user_attr("model", args.model)
    knobs, current = load_space(args.model), params_section(args.model)
    if all(knob.contains(current[knob.name]) for knob in knobs):  # params.yaml's values, as the first trial
        study.enqueue_trial({knob.name: encode_choice(current[knob.name]) for knob in knobs})
    print(f"created study '{args.study_name}' ({args.model}) in {describe_storage(args.storage)}", flush=True)


def make_sampler():
    # Multi-objective TPE; constant_liar (Optuna's default) keeps parallel workers away from running trials.
    # Unseeded on purpose: workers with one seed would draw the same start-up trials.
    return optuna.samplers.TPESampler(n_startup_trials=10)


class JournalWriteLock:
    """Optuna's journal write lock as an flock, which the kernel releases when its holder dies.

    Optuna's own lock files outlive a writer killed mid-write: others wait out a 30 s grace period, and
    forever when the journal path is relative (the lock is a symlink that then dangles; Optuna 5.0.0).
    """

    def __init__(self, path):
        self.path, self.handle = path, None

    def acquire(self):
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return True

    def release(self):
        if self.handle is not None:
            self.handle.close()  # closing drops the flock
            self.handle = None


def lock_path(spec):
    """The file a claim lock flocks: the journal, or the SQLite database; None on PostgreSQL."""
    if not is_url(spec):
        return Path(spec)
    return Path(make_url(spec).database) if spec.startswith("sqlite") else None


class ClaimLock:
    """Mutual exclusion of every worker of one study while it counts trials and claims the next one.

    A file lock (flock) on the journal or SQLite file; on PostgreSQL an advisory lock keyed by the study name.
    Both are released by the operating system or the server when their holder dies.
    """

    def __init__(self, spec, study_name):
        self.path = lock_path(spec)
        if self.path is None:
            self.engine = sqlalchemy.create_engine(spec, connect_args={"connect_timeout": 10},
                                                   poolclass=sqlalchemy.pool.NullPool)
            self.key = zlib.crc32(f"fmnist-search:{study_name}".encode())

    @contextlib.contextmanager
    def held(self):
        if self.path is not None:
            with open(self.path, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield
            return
        with self.engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
