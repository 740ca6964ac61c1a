"""Shared test helpers: the repo's real params.yaml, one section at a time, with per-test overrides.

The params models have no defaults (params.yaml is the single source of every value), and the file's
values get tuned, so a test passes as overrides every value its assertions depend on.
Test modules import these with `from conftest import ...` (tests/ is on sys.path, as for idx_builders).
"""
from pathlib import Path

import yaml

from fmnist.params import load_params, parse_section

PROJECT_PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"


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
