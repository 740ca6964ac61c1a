"""Workers: each claims a trial under the study's lock, trains and scores it, records it; dead workers' trials fail."""
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter

import optuna
import psutil
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from fmnist.data import load_split
from fmnist.errors import StudyError, first_line
from fmnist.params import EvaluateParams, load_params
from fmnist.paths import prepared_split
from fmnist.search.space import params_section, trial_params, value_text
from fmnist.search.stops import Stopped, stop_handled
from fmnist.search.storage import HEARTBEAT_S, ClaimLock, trial_id

WAIT_S = 5  # poll period of a worker waiting for other workers' last trials


def run_worker(args, study, storage, knobs):
    """Claim and run trials until the study holds args.trials finished ones."""
    train, validation = (load_split(prepared_split(split)) for split in ("train", "validation"))  # never test
    batch_size = load_params("evaluate", EvaluateParams).batch_size  # scored as the evaluate stage scores
    base = params_section(args.model)
    # TensorFlow loads only now, after every input is read: its start-up notices must not bury a one-line error
    from fmnist.models import BUILDERS
    from fmnist.training import score_trial

    def score(values):
        params = trial_params(args.model, base, values)
        with contextlib.redirect_stdout(io.StringIO()):  # Keras's per-epoch lines: one line per trial instead
            return score_trial(params, BUILDERS[args.model], train, validation, batch_size)

    lock = ClaimLock(args.storage, args.study_name)
    told_waiting = False
    while True:
        trial, finished, running = claim_trial(study, storage, lock, args.trials)
        if trial is None:
            if finished >= args.trials:
                return
            if not told_waiting:
                print(f"[{finished}/{args.trials}] waiting for {running} running trial(s) of other workers", flush=True)
                told_waiting = True
            time.sleep(WAIT_S)
            continue
        told_waiting = False
        values, result, finished = run_trial(study, storage, lock, trial, knobs, score)
        print_progress(study, trial.number, values, result, finished, args.trials)


def run_trial(study, storage, lock, trial, knobs, score):
    """Sample the trial's values, score them and record the result: (values, result, finished count it made).
    A stop or an error is recorded as the trial's failure before it goes on up."""
    try:
        with heartbeat(study, storage, trial.number):
            values = {knob.name: knob.sample(trial) for knob in knobs}
            trial.set_user_attr("params", values)
            result = score(values)
        return values, result, tell_trial(study, lock, trial, result)
    except Stopped as stop:
        stop_handled()
        fail_trial(study, storage, trial.number, f"stopped by {stop}")
        print(f"trial {trial.number}: stopped by {stop}; recorded as failed", file=sys.stderr, flush=True)
        raise
    except Exception as error:
        fail_trial(study, storage, trial.number, f"{type(error).__name__}: {first_line(error)}")
        raise StudyError(f"trial {trial.number} failed ({type(error).__name__}: {first_line(error)}); it is "
                         "recorded as failed: fix the cause, then run the same command again to resume") from None


def claim_trial(study, storage, lock, n_trials):
    """(trial or None, finished, running): a new trial only while finished + running < n_trials, decided
    under the lock, so several workers can never start more trials than asked for."""
    with lock.held():
        fail_dead_trials(study, storage)
        states = Counter(trial.state for trial in study.get_trials(deepcopy=False))
        finished, running = states[TrialState.COMPLETE], states[TrialState.RUNNING]
        if finished + running >= n_trials:
            return None, finished, running
        with warnings.catch_warnings():  # it says ask() records no heartbeat; heartbeat() below records it
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
            trial = study.ask()
        trial.set_user_attr("worker", this_worker())
        return trial, finished, running


@contextlib.contextmanager
def heartbeat(study, storage, number):
    """On a database, record trial `number`'s heartbeat while it runs, as Optuna's optimize() would;
    fail_stale_trials then fails a trial whose heartbeat stopped."""
    if not isinstance(storage, optuna.storages.RDBStorage):  # a journal file has none: see fail_dead_trials
        yield
        return
    id_in_storage, stop = trial_id(study, storage, number), threading.Event()

    def beat():
        while True:
            with contextlib.suppress(Exception):
                storage.record_heartbeat(id_in_storage)
            if stop.wait(HEARTBEAT_S):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def tell_trial(study, lock, trial, result):
    """Record the trial's result; returns the finished count it made, under the lock so that each is unique."""
    with lock.held():
        study.tell(trial, result)
        return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def fail_trial(study, storage, number, reason):
    try:
        storage.set_trial_user_attr(trial_id(study, storage, number), "failure", reason)
    except UpdateFinishedTrialError:
        return  # it finished (or another worker failed it) meanwhile
    study.tell(number, state=TrialState.FAIL, skip_if_finished=True)


def fail_dead_trials(study, storage):
    """Mark failed every running trial whose worker died: killed on this machine, or silent past the
    database heartbeat's grace period. Called with the claim lock held."""
    optuna.storages.fail_stale_trials(study)  # heartbeats; a no-op on the journal file, which has none
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        # A claimer sets "worker" before it releases the lock: a running trial without one lost its claimer.
        if worker is None or is_dead(worker):
            where = f"{worker['host']}:{worker['pid']}" if worker else "unknown"
            fail_trial(study, storage, trial.number, f"worker {where} died during the trial")
            print(f"trial {trial.number}: its worker {where} died; recorded as failed", flush=True)


def this_worker():
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time()}


def is_dead(worker):
    """True when `worker` ran on this machine and its process is gone (a reused pid has another start time)."""
    if worker["host"] != socket.gethostname():
        return False
    try:
        process = psutil.Process(worker["pid"])
        # a killed worker stays a zombie until its parent reaps it: dead all the same
        return abs(process.create_time() - worker["started"]) > 1 or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def print_progress(study, number, values, result, finished, n_trials):
    front = sorted(study.best_trials, key=lambda trial: trial.values[1])
    knobs = " ".join(f"{name}={value_text(value, digits=4)}" for name, value in values.items())
    shown = ", ".join(f"#{trial.number} {trial.values[0]:.4f}/{trial.values[1]:.0f}s" for trial in front)
    print(f"[{finished}/{n_trials}] trial {number}: validation accuracy {result[0]:.4f}, {result[1]:.1f} s | "
          f"{knobs} | front: {shown}", flush=True)


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
