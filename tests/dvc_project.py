"""The project as a new user has it, on tiny synthetic data: a committed git+DVC copy after one `dvc repro`.

Building it (the real dvc CLI running every stage) is the costliest step of the tests, so a test run builds it
once (the `built_study` fixture in conftest.py, shared by pytest-xdist's workers) and each module that needs it
works on its own copy (`copy_project`), which takes a fraction of a second.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from fmnist.data import RAW_CHECKSUMS
from fmnist.fetch import CHECKSUMS_OVERRIDE_ENV
from idx_builders import banded_images, raw_payloads, write_checksums, write_gz_dir

PROJECT = Path(__file__).resolve().parents[1]
COPIED = ["dvc.yaml", "params.yaml", "stages", "fmnist", ".dvc/config", ".dvc/offline-plots.html", ".dvc/plots",
          ".dvcignore", ".gitignore", "search/plot", "search/front.png"]  # dvc.yaml's plots show the committed study
TINY = {"fetch": {"timeout_s": 1}, "preprocess": {"validation_fraction": 0.2, "grid_images_per_class": 2},
        "ann": {"hidden_units": [32], "epochs": 1, "batch_size": 32},
        "cnn": {"filters": [8, 16], "dense_units": 32, "epochs": 1, "batch_size": 32},
        "evaluate": {"gallery_pairs": 2, "gallery_images_per_pair": 2},
        "compare": {"bootstrap_resamples": 50},
        "control": {"train_images": 100, "epochs": {"ann": 1, "cnn": 1}, "seeds": [1, 2]},
        "robustness": {"shifts": [1, 2], "rotations": [10], "noise_levels": [0.2]},
        "data_efficiency": {"train_images": [50], "max_epochs": 2},
        "explain": {"ann_units": 4}}
GIT = ["git", "-c", "commit.gpgsign=false"]
DVC = [sys.executable, "-m", "dvc"]


def edit_params(project, changes):
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def run(project, env, *args):
    result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stages_a_repro_would_run(project):
    """What `dvc repro` would run in a copy_project() copy, as DVC sees it: the stale stages and everything downstream
    of them (plain `--dry` lists only the stale ones, since it cannot know what their new outputs will change)."""
    output = run(project["path"], project["env"], *project["dvc"], "repro", "--dry", "--force-downstream")
    return set(re.findall(r"Running stage '([^']+)'", output))


def project_env(project, checksums):
    """The environment the copy's commands run in: its own package first, the synthetic data's checksums."""
    return {**os.environ, CHECKSUMS_OVERRIDE_ENV: str(checksums), "PYTHONPATH": str(project),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.com"}


def build_project(root):
    """Copy the project to root/project, fetching from synthetic .gz files under root; commit, `dvc repro`, commit.

    The repro's output is kept in root/first_repro.txt, written last.
    """
    project = root / "project"
    for name in COPIED:
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (PROJECT / name).is_dir() else shutil.copy)(PROJECT / name, target)
    payloads = raw_payloads(train_count=300, test_count=100, make_split=banded_images)
    assert set(payloads) == set(RAW_CHECKSUMS)
    source = write_gz_dir(root / "source", payloads)
    write_checksums(root / "checksums.json", payloads)
    edit_params(project, TINY | {"fetch": {**TINY["fetch"], "source_dir": str(source), "urls": ["http://127.0.0.1:9"]}})
    env = project_env(project, root / "checksums.json")
    run(project, env, "git", "init", "-q")
    run(project, env, *GIT, "add", "-A")
    run(project, env, *GIT, "commit", "-q", "-m", "project")
    first_repro = run(project, env, *DVC, "repro")
    run(project, env, *GIT, "add", "-A")
    run(project, env, *GIT, "commit", "-q", "-m", "baseline run")
    (root / "first_repro.txt").write_text(first_repro)  # last: its presence says the build is complete


def copy_project(built_root, target):
    """A private copy of the built project (git history and DVC cache included) at target/project.

    Returns its path, the environment to run its commands in, the dvc command and the first repro's output.
    """
    project = target / "project"
    shutil.copytree(built_root / "project", project, symlinks=True)
    return {"path": project, "env": project_env(project, built_root / "checksums.json"), "dvc": DVC,
            "first_repro": (built_root / "first_repro.txt").read_text()}
