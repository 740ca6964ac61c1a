"""fmnist.params: every section of params.yaml validated into its model, errors naming the key."""
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import as_yaml, project_params, project_section
from fmnist.errors import StudyError
from fmnist.params import (SCHEMA_FILE, AnnParams, CnnParams, CompareParams, ControlParams, DataEfficiencyParams,
                           EvaluateParams, ExplainParams, FetchParams, PreprocessParams, RobustnessParams, ServeParams,
                           load_params, parse_section, schema_text, with_changes)

PROJECT = Path(__file__).resolve().parents[1]
SECTIONS = {"fetch": FetchParams, "preprocess": PreprocessParams, "ann": AnnParams, "cnn": CnnParams,
            "evaluate": EvaluateParams, "compare": CompareParams, "control": ControlParams,
            "robustness": RobustnessParams, "data_efficiency": DataEfficiencyParams, "explain": ExplainParams,
            "serve": ServeParams}


def error_for(section, cls, **changes):
    values = project_section(section) | changes
    with pytest.raises(StudyError) as caught:
        parse_section(section, values, cls)
    return str(caught.value)


def has_declared_type(value, kind):
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        return has_declared_type(value, args[0])
    if origin is typing.Literal:
        return value in args
    if origin is tuple:
        return isinstance(value, tuple) and all(has_declared_type(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(has_declared_type(key, args[0]) and has_declared_type(item, args[1])
                                               for key, item in value.items())
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


@pytest.mark.parametrize("section", SECTIONS)
def test_repo_params_file_loads_every_section_with_its_values(section):
    params = load_params(section, SECTIONS[section], PROJECT / "params.yaml")
    assert isinstance(params, SECTIONS[section])
    for name, field in type(params).model_fields.items():
        assert has_declared_type(getattr(params, name), field.annotation), name
    assert as_yaml(params) == project_section(section)


@pytest.mark.parametrize("section, key", [(section, key) for section, cls in SECTIONS.items() for key in cls.model_fields])
def test_every_missing_key_is_named(section, key):
    """No key has a fallback in code: a section without any one of them is an error naming it."""
    values = project_section(section)
    del values[key]
    with pytest.raises(StudyError, match=rf"^{section}\.{key} is missing"):
        parse_section(section, values, SECTIONS[section])


def test_overrides_are_validated_like_the_file():
    assert project_params("cnn", CnnParams, padding="same", filters=(8,)).filters == (8,)
    with pytest.raises(StudyError, match=r"^cnn\.padding must be one of"):
        project_params("cnn", CnnParams, padding="full")
    with pytest.raises(StudyError, match=r"^cnn\.filterz is not a known key"):
        project_params("cnn", CnnParams, filterz=(8,))


def test_lists_become_tuples_and_integers_become_floats_for_float_keys():
    params = parse_section("cnn", project_section("cnn") | {"filters": [8, 16, 32], "learning_rate": 1}, CnnParams)
    assert params.filters == (8, 16, 32)
    assert params.learning_rate == 1.0 and isinstance(params.learning_rate, float)


@pytest.mark.parametrize("section", SECTIONS)
def test_unknown_key_is_named(section):
    cls = SECTIONS[section]
    values = project_section(section) | {"epochz": 3}
    with pytest.raises(StudyError, match=rf"^{section}\.epochz is not a known key"):
        parse_section(section, values, cls)


@pytest.mark.parametrize("value", ["10", True, 2.5, None], ids=["string", "bool", "float", "null"])
def test_wrong_type_for_an_integer_is_named(value):
    message = error_for("cnn", CnnParams, epochs=value)
    assert message.startswith("cnn.epochs must be an integer >= 1")
    assert message.endswith(f"got {value!r}")


@pytest.mark.parametrize("value", ["0.1", True], ids=["string", "bool"])
def test_wrong_type_for_a_number_is_named(value):
    assert error_for("ann", AnnParams, learning_rate=value).startswith("ann.learning_rate must be a number")


@pytest.mark.parametrize("value", ["yes", 1], ids=["string", "int"])
def test_wrong_type_for_a_flag_is_named(value):
    assert error_for("cnn", CnnParams, batch_norm=value).startswith("cnn.batch_norm must be true or false")


def test_zero_epochs_is_out_of_range():
    assert error_for("cnn", CnnParams, epochs=0) == "cnn.epochs must be an integer >= 1, got 0"


def test_negative_learning_rate_is_out_of_range():
    message = error_for("ann", AnnParams, learning_rate=-0.001)
    assert message.startswith("ann.learning_rate must be a number in [")
    assert message.endswith("got -0.001")


@pytest.mark.parametrize("section, key, value", [
    ("preprocess", "validation_fraction", 0.9),
    ("evaluate", "calibration_bins", 1),
    ("compare", "confidence", 1.0),
    ("fetch", "timeout_s", 0),
    ("cnn", "kernel_size", 8),
])
def test_values_outside_their_bounds_are_named(section, key, value):
    assert error_for(section, SECTIONS[section], **{key: value}).startswith(f"{section}.{key} must be")


def test_bad_schedule_choice_is_named():
    message = error_for("cnn", CnnParams, schedule="linear")
    assert message == "cnn.schedule must be one of 'constant', 'cosine', got 'linear'"


def test_bad_padding_choice_is_named():
    assert error_for("cnn", CnnParams, padding="full") == "cnn.padding must be one of 'valid', 'same', got 'full'"


@pytest.mark.parametrize("filters, key", [
    ([32, 0], "cnn.filters[1]"),
    ([32, "64"], "cnn.filters[1]"),
    ([True], "cnn.filters[0]"),
])
def test_bad_list_item_is_named(filters, key):
    assert error_for("cnn", CnnParams, filters=filters).startswith(f"{key} must be an integer >= 1")


@pytest.mark.parametrize("filters", [[], 32, "32,64"], ids=["empty", "scalar", "string"])
def test_list_key_needs_a_non_empty_list(filters):
    assert error_for("cnn", CnnParams, filters=filters).startswith("cnn.filters must be a non-empty list")


def test_epochs_per_model_must_name_each_model_with_an_integer():
    section, cls = "control", ControlParams
    assert error_for(section, cls, epochs={"ann": 3}) == f"{section}.epochs must name each model (ann, cnn) once, got ann"
    assert error_for(section, cls, epochs={"ann": 3, "cnn": 3, "rnn": 1}).startswith(f"{section}.epochs must name")
    assert error_for(section, cls, epochs={"ann": 3, "cnn": 0}) == f"{section}.epochs[cnn] must be an integer >= 1, got 0"
    assert error_for(section, cls, epochs={"ann": 3, "cnn": "5"}).startswith(f"{section}.epochs[cnn] must be an integer")


def test_control_seeds_must_differ_and_be_at_least_two():
    assert error_for("control", ControlParams, seeds=[1, 1]) == "control.seeds must differ from each other, got [1, 1]"
    assert error_for("control", ControlParams, seeds=[1]).startswith("control.seeds must be a non-empty list")


def test_robustness_levels_are_bounded():
    assert error_for("robustness", RobustnessParams, shifts=[1, 0]).startswith("robustness.shifts[1] must be an integer in [1, 14]")
    assert error_for("robustness", RobustnessParams, noise_levels=[1.5]).startswith("robustness.noise_levels[0] must be")


def test_with_changes_validates_the_changed_values():
    cnn = load_params("cnn", CnnParams, PROJECT / "params.yaml")
    assert with_changes("cnn", cnn, epochs=3, flip=False).epochs == 3
    assert with_changes("cnn", cnn, epochs=3).filters == cnn.filters
    with pytest.raises(StudyError, match=r"^cnn\.epochs must be an integer >= 1, got 0"):
        with_changes("cnn", cnn, epochs=0)


def test_bad_url_list_item_is_named():
    assert error_for("fetch", FetchParams, urls=["http://a.example", 3]).startswith("fetch.urls[1] must be a string")


def write_params(path, document):
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_load_params_reads_a_section_from_a_given_file(tmp_path):
    seed = project_section("compare")["seed"] + 1  # differs from the repo's file, so only the given file can supply it
    path = write_params(tmp_path / "params.yaml", {"compare": project_section("compare") | {"seed": seed}})
    assert load_params("compare", CompareParams, path) == project_params("compare", CompareParams, seed=seed)


def test_missing_params_file_is_an_error(tmp_path):
    path = tmp_path / "params.yaml"
    with pytest.raises(StudyError, match=rf"^{path} not found"):
        load_params("cnn", CnnParams, path)


def test_missing_section_is_named(tmp_path):
    path = write_params(tmp_path / "params.yaml", {"ann": project_section("ann")})
    with pytest.raises(StudyError, match=r"has no section 'cnn'"):
        load_params("cnn", CnnParams, path)


def test_section_that_is_not_a_mapping_is_an_error(tmp_path):
    path = write_params(tmp_path / "params.yaml", {"cnn": [1, 2]})
    with pytest.raises(StudyError, match=r"has no section 'cnn'"):
        load_params("cnn", CnnParams, path)


def test_invalid_yaml_is_an_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("cnn: [unclosed\n")
    with pytest.raises(StudyError, match="is not valid YAML"):
        load_params("cnn", CnnParams, path)


def test_params_file_that_is_not_a_mapping_is_an_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- cnn\n- ann\n")
    with pytest.raises(StudyError):
        load_params("cnn", CnnParams, path)


def assert_stage_fails_with_one_line(tmp_path, command, message, section=None, key=None, value=None):
    """Run stages/COMMAND in tmp_path on the project's params.yaml, with section.key set to value if given:
    exit 2, stderr exactly `error: MESSAGE`, nothing written."""
    document = yaml.safe_load((PROJECT / "params.yaml").read_text())
    if section:
        document[section][key] = value
    write_params(tmp_path / "params.yaml", document)
    # As a user runs it: TensorFlow's log level left alone, so its start-up notices would show up here too.
    env = {name: setting for name, setting in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, str(PROJECT / "stages" / command[0]), *command[1:]], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {message}"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.parametrize("command, section, key, message", [
    (["train_cnn.py"], "cnn", "epochs", "cnn.epochs must be an integer >= 1, got 0"),
    (["train_ann.py"], "ann", "epochs", "ann.epochs must be an integer >= 1, got 0"),
    (["evaluate.py", "cnn"], "evaluate", "batch_size", "evaluate.batch_size must be an integer >= 1, got 0"),
], ids=["train_cnn", "train_ann", "evaluate"])
def test_tensorflow_stage_with_a_zero_exits_2_with_one_line_naming_the_key(tmp_path, command, section, key, message):
    assert_stage_fails_with_one_line(tmp_path, command, message, section, key, 0)


@pytest.mark.parametrize("command, message", [
    (["preprocess.py"], "data/raw/train-images-idx3-ubyte is missing: run `dvc repro fetch` first"),
    (["train_cnn.py"], "data/prepared/train.npz is missing: run `dvc repro preprocess` first"),
    (["compare.py"], "data/predictions/ann.npz is missing: run `dvc repro evaluate@ann` first"),
    (["control.py", "cnn"], "data/prepared/train.npz is missing: run `dvc repro preprocess` first"),
    (["robustness.py", "ann"], "data/prepared/test.npz is missing: run `dvc repro preprocess` first"),
    (["data_efficiency.py", "cnn"], "data/prepared/train.npz is missing: run `dvc repro preprocess` first"),
    (["explain.py", "ann"], "data/prepared/test.npz is missing: run `dvc repro preprocess` first"),
    (["control.py"], "usage: python stages/control.py MODEL, with MODEL one of ann, cnn"),
    (["explain.py", "mlp"], "usage: python stages/explain.py MODEL, with MODEL one of ann, cnn"),
], ids=["preprocess", "train_cnn", "compare", "control", "robustness", "data_efficiency", "explain", "no model",
        "unknown model"])
def test_stage_run_before_its_inputs_exist_names_the_stage_to_run(tmp_path, command, message):
    assert_stage_fails_with_one_line(tmp_path, command, message)


def test_committed_schema_is_the_generated_one():
    assert (PROJECT / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text(), "run: python -m fmnist.params --schema"


def test_params_file_names_its_schema_and_passes_it():
    text = (PROJECT / "params.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    jsonschema.validate(yaml.safe_load(text), json.loads(schema_text()))


@pytest.mark.parametrize("section, key, value", [
    ("cnn", "epochs", 0), ("cnn", "epochs", "10"), ("cnn", "epochz", 3), ("cnn", "padding", "full"),
    ("cnn", "batch_norm", 1), ("ann", "hidden_units", []), ("ann", "hidden_units", [512, 0]), ("fetch", "urls", "x"),
])
def test_schema_rejects_what_the_stages_reject(section, key, value):
    """An editor flags the same values the stage stops on."""
    document = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    document[section][key] = value
    with pytest.raises(StudyError):
        parse_section(section, document[section], SECTIONS[section])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json.loads(schema_text()))


def test_schema_rejects_a_missing_key_and_an_unknown_section():
    document = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    del document["cnn"]["dropout"]
    document["cnnn"] = {}
    errors = jsonschema.Draft202012Validator(json.loads(schema_text())).iter_errors(document)
    assert sorted(error.message for error in errors) == ["'dropout' is a required property",
                                                         "Additional properties are not allowed ('cnnn' was unexpected)"]


def test_a_warmup_as_long_as_training_is_named_with_both_keys():
    message = error_for("cnn", CnnParams, epochs=4, warmup_epochs=4.0)
    assert message == "cnn.warmup_epochs (4.0) must be below epochs (4)"
