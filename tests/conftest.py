"""Shared test helpers: the repo's real params.yaml, one section at a time, with per-test overrides; the built
study that the end-to-end modules copy; a headless browser; the module order that balances bin/test's workers.

The params models have no defaults (params.yaml is the single source of every value), and the file's
values get tuned, so a test passes as overrides every value its assertions depend on.
Test modules import these with `from conftest import ...` (tests/ is on sys.path, as for idx_builders).
"""
import fcntl
import shutil
from pathlib import Path

import pytest
import yaml

from dvc_project import build_project
from fmnist.params import MODEL_PARAMS, load_params, parse_section

PROJECT_PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"
# The longest modules first, so that bin/test's workers (pytest-xdist, whole modules, in this order) end together:
# on two cores one builds the study for test_pipeline while the other runs the search; test_sharing copies it.
LONGEST_FIRST = ("test_pipeline.py", "test_search.py", "test_sharing.py", "test_serve.py", "test_params.py",
                 "test_training.py", "test_predict.py")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Selenium (offline: /usr/bin/chromium and /usr/bin/chromedriver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST else
               len(LONGEST_FIRST))  # stable: each module keeps its own order


def declared_params(stage):
    """The params keys dvc.yaml's stage `stage` depends on."""
    return set(yaml.safe_load((PROJECT_PARAMS_FILE.parent / "dvc.yaml").read_text(encoding="utf-8"))
               ["stages"][stage]["params"])


def model_keys_except(model, overridden):
    """Every key of a model's section ("ann.dropout", ...) but the `overridden` ones."""
    return {f"{model}.{key}" for key in MODEL_PARAMS[model].model_fields if key not in overridden}


def project_section(section):
    """Section `section` of the repo's params.yaml as YAML gives it: a fresh dict, lists as lists."""
    return yaml.safe_load(PROJECT_PARAMS_FILE.read_text(encoding="utf-8"))[section]


def as_yaml(params):
    """A params model as YAML would give its section: a dict, tuples as lists."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in params.model_dump().items()}


def project_params(section, cls, **overrides):
    """Section `section` of the repo's params.yaml as `cls`, with `overrides` in place of the file's values.

    Overrides pass the same validation as the file, so a test cannot build params the stages would reject.
    """
    return parse_section(section, as_yaml(load_params(section, cls, PROJECT_PARAMS_FILE)) | overrides, cls)


@pytest.fixture(scope="session")
def built_study(tmp_path_factory, worker_id):
    """The folder of one `dvc repro` of the project on synthetic data (dvc_project.build_project), built once per
    test run: pytest-xdist's workers share it through a lock. Never change it: copy it (dvc_project.copy_project)."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the run's folder, above each worker's own
    root = shared / "built-study"
    with open(shared / "built-study.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "first_repro.txt").exists():  # written last: a failed build is started over
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            build_project(root)
    return root
