"""search.yaml: the knobs a trial samples, each checked against params.yaml's own rules before any trial runs."""
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fmnist.errors import StudyError
from fmnist.params import MODEL_NAMES, MODEL_PARAMS, PARAMS_FILE, load_params, parse_section, read_yaml

SPACE_FILE = Path("search.yaml")
KNOB_FORM = "{low: L, high: H} (optionally log: true) or {choices: [...]}"


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
        """(label, value) of every value whose validity implies the whole range's: the ends, or each choice
        (for rules on one key; parse_space checks rules across keys on every mix of these)."""
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


def value_text(value, digits=None):
    """A knob value as params.yaml spells it, or with floats cut to `digits` significant digits for reading.

    Exact floats are plain decimals: PyYAML, which the stages read params.yaml with, takes 1e-05 for a string.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if digits:
            return f"{value:.{digits}g}"
        text = repr(value)
        return np.format_float_positional(value, trim="0") if "e" in text else text
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item, digits) for item in value) + "]"
    return str(value)


def params_section(model):
    """params.yaml's `model` section as plain YAML data, after the stage's own validation of it."""
    load_params(model, MODEL_PARAMS[model])
    return read_yaml(PARAMS_FILE, "bin/search")[model]


def trial_params(model, base, values):
    """The section `base` with a trial's `values` in place, validated into the params the train stage takes."""
    return parse_section(model, {**base, **values}, MODEL_PARAMS[model])


def load_space(model, path=SPACE_FILE):
    """The knobs of `model` in search.yaml; every section is checked against params.yaml first."""
    document = read_yaml(path, "bin/search")
    if not isinstance(document, dict):
        raise StudyError(f"{path} must map a model ({', '.join(MODEL_NAMES)}) to its knobs")
    for section in document:
        if section not in MODEL_NAMES:
            raise StudyError(f"{path}: '{section}' is not a model; sections: {', '.join(MODEL_NAMES)}")
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
                trial_params(section, base, {name: value})
            except StudyError as error:
                raise StudyError(f"{path}: {key} {label} is outside what params.yaml allows ({error})") from None
        knobs.append(knob)
    check_joint_ends(section, base, knobs, path)
    return knobs


def check_joint_ends(section, base, knobs, path):
    """Rules across keys (warmup_epochs below epochs) hold for every mix of the knobs' ends, so for every trial."""
    for mix in itertools.product(*(knob.candidates() for knob in knobs)):
        try:
            trial_params(section, base, {knob.name: value for knob, (_, value) in zip(knobs, mix)})
        except StudyError as error:
            ends = ", ".join(f"{section}.{knob.name} {label}" for knob, (label, _) in zip(knobs, mix))
            raise StudyError(f"{path}: {ends} together are outside what params.yaml allows ({error})") from None


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
