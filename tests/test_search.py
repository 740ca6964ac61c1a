"""fmnist.search: the space checked against params.yaml's rules, studies that stop at exactly the asked number of
finished trials (two workers, on the journal file and on a real PostgreSQL server), resumption after SIGKILL,
SIGTERM, one-line errors, output free of library noise, and --apply editing params.yaml so that `dvc status` names
only the changed branch."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from dvc_project import DVC, edit_params, run
from fmnist.atomic import save_arrays
from fmnist.errors import StudyError
from fmnist.search.space import load_space
from fmnist.search.storage import open_storage
from fmnist.search.stops import Stopped
from idx_builders import banded_images

PROJECT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "DVC_NO_ANALYTICS": "1",
       "DO_NOT_TRACK": "1"}
# A tiny network, so a trial takes a second or two; the space keeps params.yaml's values reachable.
TINY_CNN = {"filters": [4], "dense_units": 8, "epochs": 1, "batch_size": 32, "flip": False, "translate": 0.0,
            "erase": 0.0, "dropout": 0.1, "learning_rate": 0.003, "test_time_flip": False}
SPACE = {"cnn": {"learning_rate": {"low": 0.001, "high": 0.01, "log": True},
                 "dropout": {"low": 0.0, "high": 0.3},
                 "filters": {"choices": [[4], [4, 8]]},
                 "dense_units": {"choices": [8, 16]}}}


def write_project(root, space=SPACE):
    """A project dir with the package, tiny params, a search space and tiny prepared train/validation splits."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT / "fmnist", root / "fmnist", ignore=shutil.ignore_patterns("__pycache__"))
    params = yaml.safe_load((PROJECT / "params.yaml").read_text())
    params["cnn"].update(TINY_CNN)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "search.yaml").write_text(yaml.safe_dump(space, sort_keys=False))
    for split, count, seed in (("train", 160, 1), ("validation", 40, 2)):
        images, labels = banded_images(count, seed)
        save_arrays(root / "data" / "prepared" / f"{split}.npz", images=images, labels=labels)
    return root


def search(project, *args, env=ENV):
    return subprocess.Popen([sys.executable, "-m", "fmnist.search", *args], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, timeout=240):
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()  # no worker outlives its test
        process.communicate()
        raise
    return process.returncode, stdout, stderr


def trials(storage, name="cnn"):
    return optuna.load_study(study_name=name, storage=open_storage(str(storage))).get_trials()


def count(found, state):
    return sum(trial.state == state for trial in found)


def progress_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith("[") and "] trial " in line]


# ------------------------------------------------------------------------------------------ the search space

@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(write_project(tmp_path / "project"))
    return tmp_path / "project"


def test_the_repo_space_passes_its_own_check(monkeypatch):
    monkeypatch.chdir(PROJECT)
    for model in ("cnn", "ann"):
        knobs = load_space(model)
        assert knobs and "seed" not in {knob.name for knob in knobs}


@pytest.mark.parametrize("entry, named", [
    ({"no_such_knob": {"low": 1, "high": 2}}, "cnn.no_such_knob is not a knob"),
    ({"dropout": {"low": 0.0, "high": 1.5}}, "cnn.dropout high 1.5 is outside what params.yaml allows"),
    ({"padding": {"choices": ["same", "round"]}}, "cnn.padding choice 'round' is outside"),
    ({"filters": {"choices": [[4], [0, 8]]}}, "cnn.filters choice [0, 8] is outside"),
    ({"epochs": {"low": 1, "high": 2.5}}, "cnn.epochs.high must be an integer"),
    ({"dropout": "0.1..0.3"}, "cnn.dropout must be {low: L, high: H}"),
    ({"dropout": {"low": 0.1, "max": 0.3}}, "cnn.dropout must be {low: L, high: H}"),
    ({"dropout": {"low": 0.3, "high": 0.1}}, "cnn.dropout.low 0.3 is above"),
    ({"learning_rate": {"low": 0.0, "high": 0.1, "log": True}}, "cnn.learning_rate is log-uniform"),
    ({"dense_units": {"choices": []}}, "cnn.dense_units.choices must be a non-empty list"),
    ({"seed": {"low": 1, "high": 9}}, "cnn.seed cannot be searched"),
])
def test_a_bad_space_entry_is_an_error_naming_it(project, entry, named):
    (project / "search.yaml").write_text(yaml.safe_dump({"cnn": entry}))
    with pytest.raises(StudyError, match="^search.yaml: ") as raised:
        load_space("cnn")
    assert named in str(raised.value) and "\n" not in str(raised.value)


def test_the_command_reports_a_bad_space_in_one_line_before_any_trial(project):
    (project / "search.yaml").write_text(yaml.safe_dump({"cnn": {"dropout": {"low": 0.0, "high": 2.0}}}))
    code, stdout, stderr = finish(search(project, "--trials", "1"))
    assert code == 2
    assert stderr.strip().startswith("error: search.yaml: cnn.dropout high 2.0") and len(stderr.splitlines()) == 1
    assert not (project / "search").exists(), "no study is created for a bad space"


# ------------------------------------------------------------------------------------------ storage errors

def test_a_file_that_is_not_a_study_journal_is_a_one_line_error(project):
    (project / "bad.journal").write_bytes(b"SQLite format 3\x00 not a journal\n\x01\x02\n")
    code, _, stderr = finish(search(project, "--trials", "1", "--storage", "bad.journal"))
    assert code == 2 and len(stderr.splitlines()) == 1
    assert "bad.journal is not an Optuna study journal" in stderr and "move this one away" in stderr


def test_an_unreachable_database_is_a_one_line_error(project):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, stderr = finish(search(project, "--trials", "1", "--storage",
                                    f"postgresql://user:secret@127.0.0.1:{port}/none"))
    assert code == 2 and len(stderr.splitlines()) == 1
    assert "cannot open the study database" in stderr and "start the server" in stderr
    assert "secret" not in stderr


def test_resuming_a_study_that_does_not_exist_is_a_one_line_error(project):
    storage = project / "study.journal"
    optuna.create_study(study_name="other", storage=open_storage(str(storage)))
    code, _, stderr = finish(search(project, "--trials", "1", "--storage", str(storage), "--study-name", "cnn-typo"))
    assert code == 2 and len(stderr.splitlines()) == 1
    assert "study 'cnn-typo' does not exist" in stderr and "other" in stderr and "--create" in stderr


# ------------------------------------------------------------------------------------------ real studies

def check_exact_study(storage, wanted, stdout_parts):
    found = trials(storage)
    assert count(found, TrialState.COMPLETE) == wanted
    assert count(found, TrialState.RUNNING) == 0 and count(found, TrialState.FAIL) == 0
    assert len(found) == wanted, "no trial was started beyond the asked number"
    lines = [line for stdout in stdout_parts for line in progress_lines(stdout)]
    assert len(lines) == wanted
    assert sorted(int(line[1:line.index("/")]) for line in lines) == list(range(1, wanted + 1))
    for trial in found:
        assert 0 <= trial.values[0] <= 1 and trial.values[1] > 0
    first = found[0]
    assert first.params["dropout"] == TINY_CNN["dropout"], "trial 0 is params.yaml's own values"
    return found


def test_two_workers_on_the_journal_file_finish_exactly_the_asked_trials(project):
    code, stdout, stderr = finish(search(project, "--trials", "3", "--workers", "2"))
    assert code == 0, stderr[-3000:]
    found = check_exact_study(project / "search" / "study.journal", 3, [stdout])
    assert len({trial.user_attrs["worker"]["pid"] for trial in found}) == 2, "both workers ran trials"
    table = (project / "search" / "trials.csv").read_text().splitlines()
    assert len(table) == 1 + 3 and table[0].startswith("trial,state,validation_accuracy,seconds,front,default")
    default = json.loads((project / "search" / "plot" / "default.json").read_text())
    assert [point["trial"] for point in default] == [0]
    assert json.loads((project / "search" / "plot" / "front.json").read_text())
    assert (project / "search" / "front.png").stat().st_size > 0
    assert not list(project.rglob(".tmp-*"))


@pytest.fixture(scope="session")
def postgres_url():
    """A private PostgreSQL server on localhost in a temporary directory, stopped at the end."""
    pg_ctl = shutil.which("pg_ctl") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))), None)
    if pg_ctl is None:
        pytest.skip("no PostgreSQL server: bin/setup installs Debian's postgresql when run as root")
    bindir = Path(pg_ctl).resolve().parent
    directory = Path(tempfile.mkdtemp(prefix="fmnist-pg-"))
    as_server = []
    if os.geteuid() == 0:  # initdb and pg_ctl refuse root: run them as the package's postgres user
        shutil.chown(directory, "postgres", "postgres")
        as_server = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = directory / "data"
    subprocess.run(as_server + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run(as_server + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"), "-w",
                                "-o", f"-p {port} -k {directory} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_server + [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def test_two_workers_on_postgresql_finish_exactly_the_asked_trials(project, postgres_url):
    code, stdout, stderr = finish(search(project, "--storage", postgres_url, "--create"))
    assert code == 0, stderr[-3000:]
    workers = [search(project, "--storage", postgres_url, "--trials", "3") for _ in range(2)]
    results = [finish(worker) for worker in workers]
    for code, _, stderr in results:
        assert code == 0, stderr[-3000:]
    found = check_exact_study(postgres_url, 3, [stdout for _, stdout, _ in results])
    assert len({trial.user_attrs["worker"]["pid"] for trial in found}) == 2, "both workers ran trials"


def test_a_trial_prints_its_result_without_library_noise(project):
    """On a database (Optuna's heartbeat on) and at the package's own TensorFlow log level, as bin/search runs."""
    quiet = {name: value for name, value in ENV.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    storage = f"sqlite:///{project / 'study.db'}"
    study = optuna.create_study(study_name="cnn", storage=open_storage(storage), directions=["maximize", "minimize"])
    study.set_user_attr("model", "cnn")
    code, stdout, stderr = finish(search(project, "--storage", storage, "--trials", "1", env=quiet))
    assert code == 0, stderr[-3000:]
    assert progress_lines(stdout)[0].startswith("[1/1] trial 0: validation accuracy ")
    for noise in ("Heartbeat of storage is supposed to be used", "use_unbounded_threadpool"):
        assert noise not in stdout + stderr


# ------------------------------------------------------------------------------------------ faults

def wait_for_running_trial(storage, number, worker, timeout=120):
    """Poll the study until trial `number` runs; fail if the worker exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.poll() is None, worker.communicate()[1][-3000:]
        if storage.exists():
            found = [trial for trial in safe_trials(storage) if trial.number == number]
            if found and found[0].state == TrialState.RUNNING:
                return
        time.sleep(0.2)  # each poll replays the journal: leave the cores to the worker
    raise AssertionError(f"trial {number} never ran")


def safe_trials(storage):
    try:
        return trials(storage)
    except (KeyError, StudyError):  # the study is being created
        return []


def test_sigkill_mid_trial_then_the_same_command_resumes(project):
    storage = project / "search" / "study.journal"
    command = ("--trials", "2")
    worker = search(project, *command)
    wait_for_running_trial(storage, 1, worker)
    worker.send_signal(signal.SIGKILL)
    worker.communicate()
    before = trials(storage)
    assert [trial.state for trial in before] == [TrialState.COMPLETE, TrialState.RUNNING]

    code, stdout, stderr = finish(search(project, *command))
    assert code == 0, stderr[-3000:]
    after = trials(storage)
    assert after[0].values == before[0].values, "the finished trial is kept"
    assert after[1].state == TrialState.FAIL and "died" in after[1].user_attrs["failure"]
    assert count(after, TrialState.COMPLETE) == 2 and len(after) == 3, "the killed trial does not count"
    assert "trial 1: its worker" in stdout
    assert progress_lines(stdout)[-1].startswith("[2/2]")
    table = (project / "search" / "trials.csv").read_text().splitlines()
    assert table[2].startswith("1,fail,,,False,False"), "the killed trial is listed as failed, without results"


def test_sigterm_stops_a_worker_and_fails_its_trial(project):
    edit_params(project, {"cnn": {"epochs": 1000}})  # a trial still running when the signal comes, however loaded
    storage = project / "search" / "study.journal"
    worker = search(project, "--trials", "3")
    wait_for_running_trial(storage, 0, worker)
    worker.send_signal(signal.SIGTERM)
    code, _, stderr = finish(worker)
    assert code == 128 + signal.SIGTERM, stderr[-3000:]
    found = trials(storage)
    assert [trial.state for trial in found] == [TrialState.FAIL]
    assert found[0].user_attrs["failure"] == "stopped by SIGTERM"


def test_a_stop_while_tensorflow_traces_stays_a_stop():
    """SIGTERM can land while Keras traces a trial's first step, and autograph wraps any Exception raised there
    (StagingError): the worker would record an error and exit 2 instead of 143."""
    import tensorflow as tf

    @tf.function
    def first_step(x):
        raise Stopped(signal.SIGTERM)

    with pytest.raises(Stopped):
        first_step(tf.constant(1.0))


SWALLOWED_STOP = """
import os, signal, sys, time
from fmnist.search.stops import Stopped, catch_stops, stop_handled

class Finalized:
    def __del__(self):  # Python drops an exception raised here, as C code inside TensorFlow drops some
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)

catch_stops()
try:
    Finalized()
    for _ in range(300):  # half a minute of a trial's work, in short steps
        time.sleep(0.1)
except Stopped as stop:
    stop_handled()
    sys.exit(128 + stop.signum)
"""


def test_a_dropped_stop_is_raised_again():
    """CI saw a SIGTERM land and vanish without a trace: the trial ran on to its end and the next one began."""
    done = subprocess.run([sys.executable, "-c", SWALLOWED_STOP], cwd=PROJECT, env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert "Exception ignored" in done.stderr and "Stopped: SIGTERM" in done.stderr, "the first stop was dropped"
    assert done.returncode == 128 + signal.SIGTERM, done.stderr[-3000:]


# ------------------------------------------------------------------------------------------ apply

COPIED = ["dvc.yaml", "params.yaml", "search.yaml", "stages", "fmnist", ".dvc/config", ".dvcignore", ".gitignore"]


def placeholder_outputs(project):
    """Every output and data dep of dvc.yaml, as small files, so `dvc commit` records a lock without training."""
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    paths = []
    for name, stage in stages.items():
        items = stage["do"] if "foreach" in stage else stage
        for item in stage.get("foreach", [None]):
            for key in ("outs", "metrics", "deps"):
                for entry in items.get(key, []):
                    path = next(iter(entry)) if isinstance(entry, dict) else entry
                    paths.append(path.replace("${item}", str(item)).replace("${key}", str(item)))
    for path in paths:
        target = project / path
        if target.exists():
            continue
        if target.suffix:  # a file (metrics are JSON)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("{}\n" if target.suffix == ".json" else path)
        else:  # a directory output
            target.mkdir(parents=True)
            (target / "placeholder").write_text(path)


def test_apply_writes_the_trial_into_params_yaml_and_only_its_branch_is_stale(tmp_path):
    project = tmp_path / "project"
    for name in COPIED:
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (PROJECT / name).is_dir() else shutil.copy)(PROJECT / name, target)
    placeholder_outputs(project)
    git = ["git", "-c", "user.name=test", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    run(project, ENV, "git", "init", "-q")
    run(project, ENV, *DVC, "commit", "-f", "-q")
    run(project, ENV, *git, "add", "-A")
    run(project, ENV, *git, "commit", "-q", "-m", "baseline")
    assert json.loads(run(project, ENV, *DVC, "status", "--json")) == {}

    original = (project / "params.yaml").read_text()
    current = yaml.safe_load(original)["cnn"]
    chosen = {"learning_rate": 0.0041234567, "dropout": 0.25, "filters": [24, 48, 96], "epochs": current["epochs"],
              "weight_decay": 1e-05}  # epochs unchanged; 1e-05 must not be written in a form PyYAML misreads
    assert all(current[name] != value for name, value in chosen.items() if name != "epochs"), "pick other values"
    storage = tmp_path / "study.journal"
    study = optuna.create_study(study_name="cnn", storage=open_storage(str(storage)),
                                directions=["maximize", "minimize"])
    study.set_user_attr("model", "cnn")
    study.add_trial(optuna.trial.create_trial(
        params={"dropout": 0.25}, distributions={"dropout": optuna.distributions.FloatDistribution(0.0, 0.4)},
        values=[0.93, 100.0], user_attrs={"params": chosen}))
    out = run(project, ENV, sys.executable, "-m", "fmnist.search", "--apply", "0", "--storage", str(storage))
    assert f"cnn.learning_rate: {current['learning_rate']} -> 0.004123" in out and "epochs" not in out.split("applied:")[1].split("\n")[0]

    edited = (project / "params.yaml").read_text()
    cnn = yaml.safe_load(edited)["cnn"]
    assert {name: cnn[name] for name in chosen} == chosen
    changed = [(old, new) for old, new in zip(original.splitlines(), edited.splitlines()) if old != new]
    assert len(edited.splitlines()) == len(original.splitlines())
    assert [old.split(":")[0].strip() for old, _ in changed] == ["filters", "dropout", "learning_rate", "weight_decay"]
    for old, new in changed:  # each edited line keeps its comment
        assert old.partition("#")[2] == new.partition("#")[2]
    assert "filters: [24, 48, 96]" in edited
    # the CNN's control and learning curves take its settings from its section too; nothing of the ANN's branch
    assert json.loads(run(project, ENV, *DVC, "status", "--json")).keys() == {"train_cnn", "control_cnn",
                                                                               "data_efficiency_cnn"}


def test_a_space_whose_ends_together_break_a_rule_across_keys_is_an_error(project):
    edit_params(project, {"cnn": {"epochs": 10}})  # each end alone is then allowed
    space = {"warmup_epochs": {"low": 0.0, "high": 3.0}, "epochs": {"low": 2, "high": 8}}
    (project / "search.yaml").write_text(yaml.safe_dump({"cnn": space}))
    with pytest.raises(StudyError, match="^search.yaml: .* together are outside what params.yaml allows") as raised:
        load_space("cnn")
    message = str(raised.value)
    assert "cnn.warmup_epochs high 3.0" in message and "cnn.epochs low 2" in message
    assert "warmup_epochs (3.0) must be below epochs (2)" in message and "\n" not in message
