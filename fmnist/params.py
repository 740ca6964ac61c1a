"""params.yaml, read one section at a time and validated into a frozen dataclass."""
import dataclasses
import typing
from pathlib import Path

import yaml

from fmnist.errors import StudyError

PARAMS_FILE = Path("params.yaml")


def knob(*, low=None, high=None, choices=None):
    """A dataclass field whose value must lie in [low, high] (numbers, list items) or in choices.

    No defaults: params.yaml is the single source of every value.
    """
    return dataclasses.field(metadata={"low": low, "high": high, "choices": choices})


@dataclasses.dataclass(frozen=True)
class FetchParams:
    source_dir: str = knob()
    urls: tuple[str, ...] = knob()
    timeout_s: float = knob(low=1)


@dataclasses.dataclass(frozen=True)
class PreprocessParams:
    validation_fraction: float = knob(low=0.01, high=0.5)
    seed: int = knob(low=0)
    grid_images_per_class: int = knob(low=1, high=20)


@dataclasses.dataclass(frozen=True)
class TrainingParams:
    """Knobs shared by both models' training; each model section adds its architecture."""

    epochs: int = knob(low=1)
    batch_size: int = knob(low=1)
    learning_rate: float = knob(low=1e-6, high=1.0)
    schedule: str = knob(choices=("constant", "cosine"))
    weight_decay: float = knob(low=0.0, high=1.0)
    label_smoothing: float = knob(low=0.0, high=0.5)
    early_stopping_patience: int = knob(low=0)
    flip: bool = knob()
    translate: float = knob(low=0.0, high=0.5)
    erase: float = knob(low=0.0, high=1.0)
    test_time_flip: bool = knob()
    seed: int = knob(low=0)


@dataclasses.dataclass(frozen=True)
class AnnParams(TrainingParams):
    hidden_units: tuple[int, ...] = knob(low=1)
    dropout: float = knob(low=0.0, high=0.9)


@dataclasses.dataclass(frozen=True)
class CnnParams(TrainingParams):
    filters: tuple[int, ...] = knob(low=1)
    convs_per_block: int = knob(low=1, high=4)
    kernel_size: int = knob(low=1, high=7)
    padding: str = knob(choices=("valid", "same"))
    batch_norm: bool = knob()
    dense_units: int = knob(low=0)
    dropout: float = knob(low=0.0, high=0.9)


@dataclasses.dataclass(frozen=True)
class EvaluateParams:
    batch_size: int = knob(low=1)
    calibration_bins: int = knob(low=2, high=100)
    gallery_pairs: int = knob(low=1, high=10)
    gallery_images_per_pair: int = knob(low=1, high=12)


@dataclasses.dataclass(frozen=True)
class CompareParams:
    bootstrap_resamples: int = knob(low=10)
    confidence: float = knob(low=0.5, high=0.999)
    significance_level: float = knob(low=1e-6, high=0.5)
    seed: int = knob(low=0)


def load_params(section, cls, path=PARAMS_FILE):
    """Read `section` of the params file into `cls`, or raise StudyError naming the bad key."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise StudyError(f"{path} not found: run the stage from the project root") from None
    except yaml.YAMLError as error:
        raise StudyError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get(section), dict):
        raise StudyError(f"{path} has no section '{section}': add it (see README for the keys)")
    return parse_section(section, document[section], cls)


def parse_section(section, values, cls):
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise StudyError(f"{section}.{unknown[0]} is not a known key; allowed: {', '.join(fields)}")
    missing = sorted(set(fields) - set(values))
    if missing:
        raise StudyError(f"{section}.{missing[0]} is missing from params.yaml: add it")
    return cls(**{name: check_value(f"{section}.{name}", values[name], field) for name, field in fields.items()})


def check_value(key, value, field):
    kind = field.type
    if typing.get_origin(kind) is tuple:
        item_kind = typing.get_args(kind)[0]
        if not isinstance(value, list) or not value:
            raise StudyError(f"{key} must be a non-empty list of {describe(item_kind, field)}, got {value!r}")
        return tuple(check_scalar(f"{key}[{index}]", item, item_kind, field) for index, item in enumerate(value))
    return check_scalar(key, value, kind, field)


def check_scalar(key, value, kind, field):
    low, high, choices = (field.metadata[name] for name in ("low", "high", "choices"))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    well_typed = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    in_range = well_typed and (
        (choices is None or value in choices)
        and (low is None or value >= low)
        and (high is None or value <= high)
    )
    if not in_range:
        raise StudyError(f"{key} must be {describe(kind, field)}, got {value!r}")
    return value


def describe(kind, field):
    low, high, choices = (field.metadata[name] for name in ("low", "high", "choices"))
    if choices:
        return "one of " + ", ".join(repr(choice) for choice in choices)
    text = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[kind]
    if low is not None and high is not None:
        return f"{text} in [{low}, {high}]"
    if low is not None:
        return f"{text} >= {low}"
    return text
