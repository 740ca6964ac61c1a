"""Stage compare: where, by how much and how surely the CNN beats the ANN on the same test images."""
import json
import os

import numpy as np

from fmnist.atomic import save_figure, write_json, write_text
from fmnist.comparison import compare_models, comparison_report, f1_gain_records, model_f1_records, per_class_f1
from fmnist.errors import StudyError, require_input, run_stage
from fmnist.figures import per_class_f1_bars
from fmnist.params import MODEL_NAMES, CompareParams, load_params
from fmnist.paths import (COMPARE_METRICS, COMPARE_PLOTS, COMPARE_REPORT, evaluation_plots_dir, metrics_file,
                          predictions_file)


def load_predictions(model):
    with np.load(require_input(predictions_file(model), f"evaluate@{model}")) as arrays:
        return arrays["labels"], arrays["probabilities"].argmax(axis=1)


def report_links():
    """Titles and paths, relative to the report, of the figures the report points to."""
    figures = {"Per-class F1, ANN vs CNN": COMPARE_PLOTS / "per_class_f1.png"}
    for model in MODEL_NAMES:
        for kind in ("confusion", "misclassified", "reliability"):
            figures[f"{model.upper()} {kind}"] = evaluation_plots_dir(model) / f"{kind}.png"
    return {title: os.path.relpath(path, COMPARE_REPORT.parent) for title, path in figures.items()}


def main():
    params = load_params("compare", CompareParams)
    (labels, ann_predicted), (cnn_labels, cnn_predicted) = (load_predictions(model) for model in MODEL_NAMES)
    if not np.array_equal(labels, cnn_labels):
        raise StudyError("the two models were evaluated on different test sets: run `dvc repro` to re-evaluate both")
    metrics = {model: json.loads(metrics_file(model).read_text()) for model in MODEL_NAMES}
    summary = compare_models(labels, ann_predicted, cnn_predicted, metrics["ann"], metrics["cnn"], params)
    write_json(COMPARE_METRICS, summary)
    write_json(COMPARE_PLOTS / "per_class_f1.json", f1_gain_records(metrics["ann"], metrics["cnn"]))
    for model in MODEL_NAMES:
        write_json(COMPARE_PLOTS / "f1" / f"{model}.json", model_f1_records(metrics[model]))
    f1_by_model = {model: per_class_f1(metrics[model]) for model in MODEL_NAMES}
    save_figure(per_class_f1_bars(f1_by_model), COMPARE_PLOTS / "per_class_f1.png")
    write_text(COMPARE_REPORT, comparison_report(summary, report_links()))
    print(f"compare: accuracy gain {summary['accuracy_gain']['value']:+.4f}, "
          f"McNemar p = {summary['mcnemar']['p_value']:.3g}")


if __name__ == "__main__":
    run_stage(main)
