"""Sharing: a DVC remote and a git remote carry a run and its experiments from clone A to clone B, on tiny synthetic
data; and fmnist.sharing, bin/pipeline's pull step, pulls only from a default remote that answers."""
import importlib.util
import json
import re
import socket
import subprocess
import sys

import pytest
import yaml

from dvc_project import GIT, copy_project, edit_params, run
from fmnist.params import MODEL_NAMES
from fmnist.sharing import pull_line

STAGES = ("fetch", "preprocess", "train_ann", "train_cnn", "evaluate@ann", "evaluate@cnn", "compare")
EXPERIMENT = "epochs-2-cnn"


@pytest.fixture(scope="module")
def shared(built_study, tmp_path_factory):
    """Clone A (a copy of the built study) pushes it to a local-directory DVC remote and a bare git repository, runs an
    experiment and pushes that (`dvc exp push`); clone B clones, `dvc pull`s, `dvc repro`s and `dvc exp pull`s.

    The experiment is a user's edit of params.yaml (cnn.epochs) run with `dvc exp run`: the one CNN rerun of the
    tests, which also shows what such an edit makes stale and reruns."""
    root = tmp_path_factory.mktemp("sharing")
    a = copy_project(built_study, root)
    path, env, dvc = a["path"], a["env"], a["dvc"]
    store, origin = root / "store", root / "origin.git"
    run(path, env, *dvc, "remote", "add", "-d", "store", str(store))
    run(path, env, *GIT, "commit", "-q", "-am", "DVC remote")
    run(root, env, "git", "init", "-q", "--bare", str(origin))
    run(path, env, "git", "remote", "add", "origin", str(origin))
    run(path, env, *dvc, "push")
    run(path, env, "git", "push", "-q", "origin", "HEAD:refs/heads/main")

    def clone(name):
        run(root, env, "git", "clone", "-q", "-b", "main", str(origin), name)
        return root / name, {**env, "PYTHONPATH": str(root / name)}

    b, b_env = clone("B")
    b_pull = run(b, b_env, *dvc, "pull")
    b_status = json.loads(run(b, b_env, *dvc, "status", "--json"))
    b_repro = run(b, b_env, *dvc, "repro")
    edit_params(path, {"cnn": {"epochs": 2}})
    a_status = json.loads(run(path, env, *dvc, "status", "--json"))
    ann_model = (path / "models/ann.keras").stat().st_mtime_ns
    a_run = run(path, env, *dvc, "exp", "run", "-n", EXPERIMENT)
    a_changed = {"ann_model_untouched": (path / "models/ann.keras").stat().st_mtime_ns == ann_model,
                 "metrics_diff": json.loads(run(path, env, *dvc, "metrics", "diff", "--json"))}
    a_experiments = json.loads(run(path, env, *dvc, "exp", "show", "--json"))
    run(path, env, *dvc, "exp", "push", "origin", EXPERIMENT)
    run(b, b_env, *dvc, "exp", "pull", "origin", EXPERIMENT)
    return {"root": root, "a": path, "env": env, "dvc": dvc, "store": store, "clone": clone,
            "a_experiments": a_experiments, "b": b, "b_env": b_env, "b_pull": b_pull, "b_status": b_status, "b_repro": b_repro,
            "a_status": a_status, "a_run": a_run, "a_changed": a_changed}


def test_changing_cnn_epochs_reruns_only_the_cnn_branch(shared):
    # the control and the learning curves set their own epochs: cnn.epochs is not among their params
    assert set(shared["a_status"]) == {"train_cnn"}, "dvc status lists the stage whose params changed"
    for stage in ("train_cnn", "evaluate@cnn", "compare", "robustness@cnn", "explain@cnn"):
        assert f"Running stage '{stage}'" in shared["a_run"]
    for stage in ("fetch", "preprocess", "train_ann", "evaluate@ann", "control_ann", "control_cnn",
                  "data_efficiency_ann", "data_efficiency_cnn", "robustness@ann", "explain@ann"):
        assert f"Stage '{stage}' didn't change, skipping" in shared["a_run"]
    assert shared["a_changed"]["ann_model_untouched"]
    diff = shared["a_changed"]["metrics_diff"]
    assert "metrics/cnn.json" in diff and "metrics/ann.json" not in diff
    assert "dvclive/cnn/metrics.json" in diff


def test_pull_restores_every_output_so_repro_runs_nothing(shared):
    b = shared["b"]
    assert "files fetched" in shared["b_pull"]
    assert shared["b_status"] == {}, "dvc status is clean right after the pull"
    assert "Running stage" not in shared["b_repro"]
    for stage in STAGES:
        assert f"Stage '{stage}' didn't change, skipping" in shared["b_repro"]
    for name in ("data/prepared/train.npz", "models/ann.keras", "models/cnn.keras", "data/predictions/cnn.npz",
                 "plots/samples.png", "plots/cnn/confusion.png", "plots/compare/per_class_f1.json",
                 "dvclive/cnn/plots/metrics/eval/accuracy.tsv", "metrics/compare.md", "metrics/compare.json"):
        assert (b / name).stat().st_size > 0, name


def test_every_stage_leaves_a_run_cache_entry(shared):
    """No stage has an uncached output other than metrics, which would turn DVC's run-cache off for it."""
    runs = (shared["a"] / ".dvc/cache/runs").rglob("*")
    commands = {yaml.safe_load(entry.read_text())["cmd"] for entry in runs if entry.is_file()}
    stages = yaml.safe_load((shared["a"] / "dvc.yaml").read_text())["stages"]
    expected = {stage["cmd"] for stage in stages.values() if "foreach" not in stage} | {
        stage["do"]["cmd"].replace("${item}", model).replace("${key}", model)
        for stage in stages.values() if "foreach" in stage for model in MODEL_NAMES}
    assert len(expected) == len(stages) + sum(len(MODEL_NAMES) - 1 for stage in stages.values() if "foreach" in stage)
    assert commands >= expected


def test_experiment_run_in_a_is_shown_with_its_params_and_metrics(shared):
    experiments = [exp for baseline in shared["a_experiments"] for exp in (baseline.get("experiments") or [])]
    experiment = next(exp for exp in experiments if exp.get("name") == EXPERIMENT)
    data = experiment["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["cnn"]["epochs"] == 2
    assert "accuracy" in data["metrics"]["metrics/cnn.json"]["data"]
    assert "eval" in data["metrics"]["dvclive/cnn/metrics.json"]["data"]


def test_experiment_pushed_from_a_is_listed_in_b_with_its_metrics(shared):
    shown = json.loads(run(shared["b"], shared["b_env"], *shared["dvc"], "exp", "show", "--json"))
    experiments = [exp for baseline in shown for exp in (baseline.get("experiments") or [])]
    experiment = next(exp for exp in experiments if exp.get("name") == EXPERIMENT)
    data = experiment["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["cnn"]["epochs"] == 2
    assert 0.0 <= data["metrics"]["metrics/cnn.json"]["data"]["accuracy"] <= 1.0
    assert "eval" in data["metrics"]["dvclive/cnn/metrics.json"]["data"]
    assert "accuracy_gain" in data["metrics"]["metrics/compare.json"]["data"]


def test_metrics_and_plots_diff_against_the_experiment_work_in_b(shared):
    b, env, dvc = shared["b"], shared["b_env"], shared["dvc"]
    metrics = json.loads(run(b, env, *dvc, "metrics", "diff", EXPERIMENT, "--json"))
    assert "metrics/cnn.json" in metrics and "metrics/ann.json" not in metrics
    plots = json.loads(run(b, env, *dvc, "plots", "diff", EXPERIMENT, "--json"))
    assert "errors" not in plots
    plots = plots["data"]
    for title in ("CNN confusion matrix, counts", "Accuracy per epoch (train and validation)"):
        rows = plots[title][0]["content"]["data"]["values"]
        assert {row["rev"] for row in rows} == {"workspace", EXPERIMENT}, title
    confusion_images = {image["revisions"][0] for image in plots["plots/cnn/confusion.png"]}
    assert confusion_images == {"workspace", EXPERIMENT}


def test_a_stage_whose_inputs_ran_before_is_restored_not_rerun(shared):
    """Back to the baseline parameters after the experiment: the run-cache restores the CNN branch."""
    a, env, dvc = shared["a"], shared["env"], shared["dvc"]
    run(a, env, "git", "checkout", "-q", "--", "params.yaml")
    output = run(a, env, *dvc, "repro")
    for stage in ("train_cnn", "evaluate@cnn", "compare"):
        assert f"Stage '{stage}' is cached - skipping run, checking out outputs" in output
    assert "Running stage" not in output
    assert run(a, env, "git", "status", "--porcelain", "--", "dvc.lock", "metrics", "dvclive") == ""


def pull_step(project, env):
    """What bin/pipeline runs before `dvc repro`: one line on stdout, exit status 0."""
    result = subprocess.run([sys.executable, "-m", "fmnist.sharing"], cwd=project, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return lines[0]


def test_pull_step_skips_an_unreachable_remote_then_pulls_a_reachable_one(shared):
    c, env = shared["clone"]("C")
    root, store, dvc = shared["root"], shared["store"], shared["dvc"]
    local_config = c / ".dvc/config.local"

    local_config.write_text(f"['remote \"store\"']\n    url = {root / 'missing'}\n")
    assert pull_step(c, env) == (f"pull: skipped, DVC remote 'store' ({root / 'missing'}) is unreachable: "
                                 f"no directory {root / 'missing'}")
    assert not (c / "models/cnn.keras").exists()

    (root / "empty").mkdir()
    local_config.write_text(f"['remote \"store\"']\n    url = {root / 'empty'}\n")
    line = pull_step(c, env)
    assert re.match(rf"pull: incomplete from DVC remote 'store' \({re.escape(str(root / 'empty'))}\): "
                    rf"[1-9][0-9]* outputs not there; dvc repro rebuilds what is missing", line), line

    local_config.unlink()
    line = pull_step(c, env)
    assert line.startswith(f"pull: from DVC remote 'store' ({store}): ") and "files fetched" in line, line
    assert json.loads(run(c, env, *dvc, "status", "--json")) == {}
    assert "Running stage" not in run(c, env, *dvc, "repro")


@pytest.fixture
def dvc_repo(tmp_path):
    """An empty git+DVC repository: no pipeline, no remote."""
    run(tmp_path, None, "git", "init", "-q")
    run(tmp_path, None, sys.executable, "-m", "dvc", "init", "-q")
    return tmp_path


def set_remote(repo, url):
    run(repo, None, sys.executable, "-m", "dvc", "remote", "add", "-d", "store", url)


def test_pull_step_skips_without_a_default_remote(dvc_repo):
    assert pull_line(dvc_repo) == "pull: skipped, no default DVC remote (`dvc remote add -d NAME URL` sets one)"


def test_pull_step_pulls_from_a_reachable_local_remote(dvc_repo, tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    set_remote(dvc_repo, str(store))
    assert pull_line(dvc_repo) == f"pull: from DVC remote 'store' ({store}): Everything is up to date."


def test_pull_step_skips_a_network_remote_that_refuses(dvc_repo):
    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    set_remote(dvc_repo, f"http://127.0.0.1:{port}/store")
    line = pull_line(dvc_repo)
    assert line.startswith(f"pull: skipped, DVC remote 'store' (http://127.0.0.1:{port}/store) is unreachable: ")
    assert "Cannot connect" in line


def test_pull_step_gives_up_on_a_network_remote_that_never_answers(dvc_repo):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/store"
        set_remote(dvc_repo, url)
        assert pull_line(dvc_repo, timeout_s=1) == f"pull: skipped, DVC remote 'store' ({url}) is unreachable: " \
                                                    "no answer in 1 s"


def test_pull_step_names_a_remote_type_whose_plugin_is_missing(dvc_repo):
    if importlib.util.find_spec("dvc_s3"):
        pytest.skip("dvc-s3 is installed here")
    set_remote(dvc_repo, "s3://some-bucket/fmnist")
    line = pull_line(dvc_repo)
    assert line.startswith("pull: skipped, DVC remote 'store' (s3://some-bucket/fmnist) is unreachable: ")
    assert "dvc-s3" in line
