"""params.yaml, read one section at a time and validated into a frozen pydantic model; its JSON Schema for editors
(`python -m fmnist.params --schema` writes params.schema.json, the schema that params.yaml's first line names)."""
import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fmnist.atomic import write_text
from fmnist.errors import StudyError, first_line

PARAMS_FILE = Path("params.yaml")
SCHEMA_FILE = Path("params.schema.json")


class Section(BaseModel):
    """No defaults: params.yaml is the single source of every value. Strict: "10" is not an integer, 1 not a flag."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FetchParams(Section):
    source_dir: str
    urls: tuple[str, ...] = Field(min_length=1, strict=False)  # lax: a YAML list becomes the tuple; items stay strict
    timeout_s: float = Field(ge=1)


class PreprocessParams(Section):
    validation_fraction: float = Field(ge=0.01, le=0.5)
    seed: int = Field(ge=0)
    grid_images_per_class: int = Field(ge=1, le=20)


class TrainingParams(Section):
    """Knobs shared by both models' training; each model section adds its architecture."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(ge=1e-6, le=1.0)
    schedule: Literal["constant", "cosine"]
    warmup_epochs: float = Field(ge=0.0)  # linear rise from 0 to learning_rate, then the schedule
    weight_decay: float = Field(ge=0.0, le=1.0)
    label_smoothing: float = Field(ge=0.0, le=0.5)
    early_stopping_patience: int = Field(ge=0)
    flip: bool
    translate: float = Field(ge=0.0, le=0.5)
    erase: float = Field(ge=0.0, le=1.0)
    test_time_flip: bool
    seed: int = Field(ge=0)

    @model_validator(mode="after")
    def warmup_within_training(self):
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be below epochs ({self.epochs})")
        return self


class AnnParams(TrainingParams):
    hidden_units: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1, strict=False)
    dropout: float = Field(ge=0.0, le=0.9)


class CnnParams(TrainingParams):
    filters: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1, strict=False)
    convs_per_block: int = Field(ge=1, le=4)
    kernel_size: int = Field(ge=1, le=7)
    padding: Literal["valid", "same"]
    batch_norm: bool
    dense_units: int = Field(ge=0)
    dropout: float = Field(ge=0.0, le=0.9)


MODEL_PARAMS = {"ann": AnnParams, "cnn": CnnParams}  # the study's models, by name: the one list of them
MODEL_NAMES = tuple(MODEL_PARAMS)


def model_argument(stage):
    """The model a per-model stage runs for: its one command-line argument (dvc.yaml passes it)."""
    if len(sys.argv) != 2 or sys.argv[1] not in MODEL_NAMES:
        raise StudyError(f"usage: python stages/{stage}.py MODEL, with MODEL one of {', '.join(MODEL_NAMES)}")
    return sys.argv[1]


class EvaluateParams(Section):
    batch_size: int = Field(ge=1)
    calibration_bins: int = Field(ge=2, le=100)
    gallery_pairs: int = Field(ge=1, le=10)
    gallery_images_per_pair: int = Field(ge=1, le=12)


class CompareParams(Section):
    bootstrap_resamples: int = Field(ge=10)
    confidence: float = Field(ge=0.5, le=0.999)
    significance_level: float = Field(ge=1e-6, le=0.5)
    seed: int = Field(ge=0)


ModelEpochs = Annotated[dict[str, Annotated[int, Field(ge=1)]], Field(strict=False)]  # {model name: epochs}


class ControlParams(Section):
    """The scrambled-pixel control: both models, original and scrambled images, several seeds, same settings."""

    train_images: int = Field(ge=10)  # stratified subset of the training split, the same in both arms
    epochs: ModelEpochs
    seeds: tuple[Annotated[int, Field(ge=0)], ...] = Field(min_length=2, strict=False)
    seed: int = Field(ge=0)  # the pixel permutation and the training subset

    @model_validator(mode="after")
    def every_model(self):
        if set(self.epochs) != set(MODEL_NAMES):
            raise ValueError(f"epochs must name each model ({', '.join(MODEL_NAMES)}) once, "
                             f"got {', '.join(self.epochs) or 'none'}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must differ from each other, got {list(self.seeds)}")
        return self


# The largest perturbations the robustness stage (and bin/serve's lab) accept: half the side in pixels, a half
# turn in degrees, a noise standard deviation of 255.
MAX_SHIFT, MAX_ROTATION, MAX_NOISE = 14, 180, 1


class RobustnessParams(Section):
    shifts: tuple[Annotated[int, Field(ge=1, le=MAX_SHIFT)], ...] = Field(min_length=1, strict=False)  # pixels
    rotations: tuple[Annotated[float, Field(gt=0, le=MAX_ROTATION)], ...] = Field(min_length=1, strict=False)  # degrees
    noise_levels: tuple[Annotated[float, Field(gt=0, le=MAX_NOISE)], ...] = Field(min_length=1, strict=False)  # std/255
    seed: int = Field(ge=0)
    batch_size: int = Field(ge=1)


class DataEfficiencyParams(Section):
    """Learning curves: each model trained on stratified subsets of the training split smaller than the control's,
    with the control's settings; the control's original arm (its first seed) is the curve's largest point."""

    train_images: tuple[Annotated[int, Field(ge=10)], ...] = Field(min_length=1, strict=False)
    max_epochs: int = Field(ge=1)  # a smaller subset keeps the largest's images seen, up to this many epochs
    seed: int = Field(ge=0)


class ExplainParams(Section):
    feature_map_image: int = Field(ge=0)  # the test image whose first-layer feature maps are drawn
    ann_units: int = Field(ge=1, le=64)   # the ANN's most influential first-layer units drawn


class ServeParams(Section):
    """bin/serve, the web app and API over the trained models (no stage reads this section)."""

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    max_body_mb: float = Field(gt=0, le=1024)
    max_files: int = Field(ge=1, le=1000)
    max_batch_images: int = Field(ge=1, le=4096)
    decode_workers: int = Field(ge=1, le=64)
    shutdown_timeout_s: float = Field(ge=0)


class ParamsFile(Section):
    """The whole file: one section per stage, and bin/serve's."""

    fetch: FetchParams
    preprocess: PreprocessParams
    ann: AnnParams
    cnn: CnnParams
    evaluate: EvaluateParams
    compare: CompareParams
    control: ControlParams
    robustness: RobustnessParams
    data_efficiency: DataEfficiencyParams
    explain: ExplainParams
    serve: ServeParams


def with_changes(section, params, **changes):
    """Section `section`'s params with `changes` in place, validated like the file (errors name the key)."""
    return parse_section(section, params.model_dump() | changes, type(params))


def read_yaml(path, command):
    """The YAML document at `path`; a missing or malformed file is a StudyError (run `command` from the root)."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyError(f"{path} not found: run {command} from the project root") from None
    except yaml.YAMLError as error:
        raise StudyError(f"{path} is not valid YAML: {first_line(error)}") from None


def load_params(section, cls, path=PARAMS_FILE):
    """Read `section` of the params file into `cls`, or raise StudyError naming the bad key."""
    document = read_yaml(path, "the stage") or {}
    if not isinstance(document, dict) or not isinstance(document.get(section), dict):
        raise StudyError(f"{path} has no section '{section}': add it (see docs/parameters.md for the keys)")
    return parse_section(section, document[section], cls)


def parse_section(section, values, cls):
    try:
        return cls.model_validate(values)
    except ValidationError as error:
        raise StudyError(first_problem(section, cls, error.errors())) from None


def first_problem(section, cls, errors):
    """One line for the first problem: an unknown key, else a missing one, else the first bad value."""
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] in {"extra_forbidden", "invalid_key"})
    if unknown:
        return f"{section}.{unknown[0]} is not a known key; allowed: {', '.join(cls.model_fields)}"
    missing = sorted(e["loc"][0] for e in errors if e["type"] == "missing")
    if missing:
        return f"{section}.{missing[0]} is missing from params.yaml: add it"
    if not errors[0]["loc"]:  # a rule across keys (a model validator)
        return f"{section}.{errors[0]['msg'].removeprefix('Value error, ')}"
    (name, *index), value = errors[0]["loc"], errors[0]["input"]  # pydantic reports in field order
    rule = cls.model_json_schema()["properties"][name]
    if index:
        item = rule.get("items") or rule.get("additionalProperties")  # a list's items, a mapping's values
        return f"{section}.{name}[{index[0]}] must be {describe(item)}, got {value!r}"
    if rule.get("type") == "array":
        return f"{section}.{name} must be a non-empty list of {describe(rule['items'])}, got {value!r}"
    return f"{section}.{name} must be {describe(rule)}, got {value!r}"


def describe(rule):
    """A JSON Schema rule in words: 'an integer >= 1', 'a number in [0.0, 0.5]', "one of 'valid', 'same'"."""
    if "enum" in rule:
        return "one of " + ", ".join(repr(choice) for choice in rule["enum"])
    words = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string"}
    text = words[rule["type"]]
    if "minimum" in rule and "maximum" in rule:
        return f"{text} in [{rule['minimum']}, {rule['maximum']}]"
    if "minimum" in rule:
        return f"{text} >= {rule['minimum']}"
    return text


def schema_text():
    """params.yaml's JSON Schema (draft 2020-12), generated from the models above, as params.schema.json holds it."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **ParamsFile.model_json_schema()}
    return json.dumps(schema, indent=2) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--schema"]:
        sys.exit(f"usage: python -m fmnist.params --schema   (writes {SCHEMA_FILE}, run from the project root)")
    write_text(SCHEMA_FILE, schema_text())
    print(f"wrote {SCHEMA_FILE}")
