"""The study's results: search/trials.csv, DVC plot data under search/plot/, the front figure, and a summary."""
import csv

from optuna.trial import TrialState

from fmnist.atomic import atomic_path, save_figure, write_json
from fmnist.figures import pareto_front
from fmnist.search import RESULTS_DIR
from fmnist.search.space import params_section, value_text

TRIALS_TABLE = RESULTS_DIR / "trials.csv"
FRONT_FIGURE = RESULTS_DIR / "front.png"
PLOT_DATA = {kind: RESULTS_DIR / "plot" / f"{kind}.json" for kind in ("trials", "front", "default")}


def trial_rows(study, model):
    """One dict per trial, with its state, objectives, knob values, and whether it is on the front or the
    trial of params.yaml's current values."""
    front = {trial.number for trial in study.best_trials}
    current = params_section(model)
    rows = []
    for trial in study.get_trials(deepcopy=False):
        values = trial.user_attrs.get("params", {})
        complete = trial.state == TrialState.COMPLETE
        worker = trial.user_attrs.get("worker")
        rows.append({
            "trial": trial.number,
            "state": trial.state.name.lower(),
            "validation_accuracy": round(trial.values[0], 6) if complete else None,
            "seconds": round(trial.values[1], 2) if complete else None,
            "front": trial.number in front,
            "default": complete and bool(values) and all(current.get(k) == v for k, v in values.items()),
            "params": values,
            "worker": f"{worker['host']}:{worker['pid']}" if worker else "",
            "note": trial.user_attrs.get("failure", ""),
        })
    return rows


def write_report(study, model):
    """search/trials.csv, the DVC plot data under search/plot/ and search/front.png, each written atomically."""
    rows = trial_rows(study, model)
    write_table(rows)
    complete = [row for row in rows if row["state"] == "complete"]
    points = {"trials": complete, "front": [row for row in complete if row["front"]],
              "default": [row for row in complete if row["default"]]}
    for kind, chosen in points.items():
        write_json(PLOT_DATA[kind], [{"trial": row["trial"], "seconds": row["seconds"],
                                      "validation_accuracy": row["validation_accuracy"]} for row in chosen])
    save_figure(pareto_front(points, f"{model.upper()} search: {len(complete)} finished trials"), FRONT_FIGURE)
    return rows


def write_table(rows):
    """One line per trial, a column per knob; empty cells where a trial has no value."""
    knob_names = list(dict.fromkeys(name for row in rows for name in row["params"]))
    columns = ["trial", "state", "validation_accuracy", "seconds", "front", "default", *knob_names, "worker", "note"]
    with atomic_path(TRIALS_TABLE) as temp:
        with open(temp, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, columns)
            writer.writeheader()
            for row in rows:
                cells = {**row, **row["params"]}
                writer.writerow({column: cell_text(cells.get(column)) for column in columns})


def cell_text(value):
    if value is None:
        return ""
    return value if isinstance(value, bool) else value_text(value)  # flags as True/False, as csv always wrote them


def print_report(rows, args):
    """The counts, the front with each trial's knobs, and how to apply one or run it through the pipeline."""
    finished = [row for row in rows if row["state"] == "complete"]
    front = sorted((row for row in finished if row["front"]), key=lambda row: row["seconds"])
    print(f"study '{args.study_name}' ({args.model}): {len(finished)} finished, {len(rows) - len(finished)} failed "
          f"or running; wrote {TRIALS_TABLE}, {FRONT_FIGURE}, {PLOT_DATA['trials'].parent}/")
    for row in front:
        knobs = " ".join(f"{name}={value_text(value, digits=4)}" for name, value in row["params"].items())
        mark = " (params.yaml)" if row["default"] else ""
        print(f"  front #{row['trial']}: {row['validation_accuracy']:.4f} in {row['seconds']:.0f} s{mark} | {knobs}")
    if finished:
        print("apply one: bin/search --apply TRIAL (same --storage and --study-name); or run one as a DVC "
              "experiment, test metrics included:")
        for row in front:
            print("  " + experiment_command(row, args))


def experiment_command(row, args):
    """`dvc exp run` that sets the trial's values: the same training, through the pipeline."""
    changes = " ".join(f"-S '{args.model}.{name}={value_text(value)}'" for name, value in row["params"].items())
    return f"dvc exp run -n {args.study_name}-trial-{row['trial']} {changes}"
