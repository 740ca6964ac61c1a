"""bin/search --apply: a finished trial's knob values written into params.yaml, every comment and the layout kept."""
from pathlib import Path

from optuna.trial import TrialState
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq

from fmnist.atomic import atomic_path
from fmnist.errors import StudyError
from fmnist.params import MODEL_PARAMS, PARAMS_FILE, load_params
from fmnist.search.space import params_section, trial_params, value_text


def apply_trial(study, number, model, path=PARAMS_FILE):
    """Write trial `number`'s knob values into params.yaml's section; returns a line per changed key."""
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    if number not in trials:
        held = f"trials: 0 to {len(trials) - 1}" if trials else "no trials yet"
        raise StudyError(f"study '{study.study_name}' has no trial {number} ({held}): see `bin/search --report`")
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        raise StudyError(f"trial {number} is {trial.state.name.lower()}: only a finished trial can be applied")
    values = trial.user_attrs["params"]
    base = params_section(model)
    trial_params(model, base, values)  # refuse before writing anything

    document_yaml = YAML()
    document_yaml.indent(mapping=2, sequence=4, offset=2)  # params.yaml's layout: round-trips byte for byte
    document_yaml.representer.add_representer(float, represent_float)
    document = document_yaml.load(Path(path).read_text(encoding="utf-8"))
    changes = []
    for name, value in values.items():
        if base[name] == value:
            continue
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        document[model][name] = value
        changes.append(f"{model}.{name}: {value_text(base[name], digits=4)} -> {value_text(values[name], digits=4)}")
    with atomic_path(path) as temp:
        with open(temp, "w", encoding="utf-8") as stream:
            document_yaml.dump(document, stream)
    load_params(model, MODEL_PARAMS[model], path)
    return changes


def represent_float(representer, value):
    return representer.represent_scalar("tag:yaml.org,2002:float", value_text(value))
