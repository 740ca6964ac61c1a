"""fmnist.comparison: compare.json from paired predictions, and a report whose every number comes from it."""
import json
import re

import numpy as np
import pytest

from conftest import project_params
from fmnist.comparison import compare_models, comparison_report, f1_gain_records, model_f1_records, percent, points
from fmnist.data import CLASS_NAMES
from fmnist.evaluation import classification_metrics
from fmnist.params import MODEL_NAMES, CompareParams
from fmnist.statistics import mcnemar_exact

HEADLINES = ("ann_accuracy", "cnn_accuracy", "ann_macro_f1", "cnn_macro_f1", "accuracy_gain", "macro_f1_gain")
FIGURES = {"Per-class F1, ANN vs CNN": "../plots/compare/per_class_f1.png", "ANN confusion": "../plots/ann/confusion.png"}


def predictions_with_accuracy(labels, accuracy, rng):
    """Predicted classes that are right on about `accuracy` of the images and otherwise a random wrong class."""
    right = rng.random(len(labels)) < accuracy
    wrong = (labels + rng.integers(1, len(CLASS_NAMES), len(labels))) % len(CLASS_NAMES)
    return np.where(right, labels, wrong)


def metrics_of(labels, predicted):
    probabilities = np.full((len(labels), len(CLASS_NAMES)), 0.1 / (len(CLASS_NAMES) - 1))
    probabilities[np.arange(len(labels)), predicted] = 0.9
    return classification_metrics(labels, probabilities, calibration_bins=10)


@pytest.fixture(scope="module")
def compare_params():
    """The repo's compare section, with the values the verdicts below depend on pinned."""
    return project_params("compare", CompareParams, bootstrap_resamples=200, confidence=0.95,
                          significance_level=0.05)


def comparison_case(params, labels, ann_predicted, cnn_predicted):
    ann_metrics, cnn_metrics = metrics_of(labels, ann_predicted), metrics_of(labels, cnn_predicted)
    summary = compare_models(labels, ann_predicted, cnn_predicted, ann_metrics, cnn_metrics, params)
    return {"labels": labels, "ann": ann_predicted, "cnn": cnn_predicted,
            "ann_metrics": ann_metrics, "cnn_metrics": cnn_metrics, "summary": summary}


@pytest.fixture(scope="module")
def clear_win(compare_params):
    """400 images: the CNN is right on about 85%, the ANN on about 65%."""
    rng = np.random.default_rng(11)
    labels = np.arange(400) % len(CLASS_NAMES)
    return comparison_case(compare_params, labels, predictions_with_accuracy(labels, 0.65, rng),
                           predictions_with_accuracy(labels, 0.85, rng))


@pytest.fixture(scope="module")
def tie(compare_params):
    """The two models differ on only 11 images, 5 one way and 6 the other."""
    rng = np.random.default_rng(12)
    labels = np.arange(300) % len(CLASS_NAMES)
    ann = predictions_with_accuracy(labels, 0.8, rng)
    cnn = ann.copy()
    right, wrong = np.flatnonzero(ann == labels), np.flatnonzero(ann != labels)
    cnn[right[:5]] = (labels[right[:5]] + 1) % len(CLASS_NAMES)
    cnn[wrong[:6]] = labels[wrong[:6]]
    return comparison_case(compare_params, labels, ann, cnn)


@pytest.fixture(scope="module", params=["clear_win", "tie"])
def case(request):
    return request.getfixturevalue(request.param)


def test_summary_keys_and_json(clear_win, compare_params):
    summary = clear_win["summary"]
    assert set(summary) == {"confidence", "significance_level", *HEADLINES, "mcnemar", "per_class_f1_gain"}
    for key in HEADLINES:
        assert set(summary[key]) == {"value", "ci_low", "ci_high"}, key
    assert set(summary["mcnemar"]) == {"ann_only_correct", "cnn_only_correct", "statistic", "p_value", "significant"}
    assert list(summary["per_class_f1_gain"]) == list(CLASS_NAMES)
    assert summary["confidence"] == compare_params.confidence
    assert summary["significance_level"] == compare_params.significance_level
    assert json.loads(json.dumps(summary)) == summary


def test_headline_values_are_the_models_scores(case):
    summary, labels = case["summary"], case["labels"]
    for model in MODEL_NAMES:
        assert summary[f"{model}_accuracy"]["value"] == pytest.approx(np.mean(case[model] == labels), abs=1e-6)
        assert summary[f"{model}_macro_f1"]["value"] == pytest.approx(case[f"{model}_metrics"]["macro"]["f1"], abs=2e-6)


def test_gains_are_cnn_minus_ann(case):
    summary = case["summary"]
    for metric in ("accuracy", "macro_f1"):
        gain = summary[f"cnn_{metric}"]["value"] - summary[f"ann_{metric}"]["value"]
        assert summary[f"{metric}_gain"]["value"] == pytest.approx(gain, abs=2e-6)
    for name in CLASS_NAMES:
        gain = case["cnn_metrics"]["per_class"][name]["f1"] - case["ann_metrics"]["per_class"][name]["f1"]
        assert summary["per_class_f1_gain"][name] == pytest.approx(gain, abs=2e-6)


def test_intervals_contain_the_point_estimates(case):
    for key in HEADLINES:
        entry = case["summary"][key]
        assert entry["ci_low"] <= entry["value"] <= entry["ci_high"], key


def test_mcnemar_counts_and_significance(case, compare_params):
    ann_right, cnn_right = case["ann"] == case["labels"], case["cnn"] == case["labels"]
    test = case["summary"]["mcnemar"]
    assert test["ann_only_correct"] == int(np.sum(ann_right & ~cnn_right))
    assert test["cnn_only_correct"] == int(np.sum(cnn_right & ~ann_right))
    assert test["p_value"] == pytest.approx(mcnemar_exact(ann_right, cnn_right)["p_value"], abs=1e-6)
    assert test["significant"] == int(test["p_value"] < compare_params.significance_level)


def test_clear_win_is_significant_and_tie_is_not(clear_win, tie):
    assert clear_win["summary"]["mcnemar"]["significant"] == 1
    assert clear_win["summary"]["accuracy_gain"]["ci_low"] > 0
    assert (tie["summary"]["mcnemar"]["ann_only_correct"], tie["summary"]["mcnemar"]["cnn_only_correct"]) == (5, 6)
    assert tie["summary"]["mcnemar"]["significant"] == 0


def test_f1_gain_records(clear_win):
    records = f1_gain_records(clear_win["ann_metrics"], clear_win["cnn_metrics"])
    assert [record["class"] for record in records] == list(CLASS_NAMES)
    for record in records:
        assert record["f1_gain"] == pytest.approx(record["cnn_f1"] - record["ann_f1"], abs=1e-6)


def test_model_f1_records_follow_the_metrics(clear_win):
    records = model_f1_records(clear_win["cnn_metrics"])
    assert [record["class"] for record in records] == list(CLASS_NAMES)
    assert [record["f1"] for record in records] == [
        clear_win["cnn_metrics"]["per_class"][name]["f1"] for name in CLASS_NAMES]


# The report: every number in it is read back and checked against the summary.

def table_rows(report, header):
    """Cells of the rows of the markdown table whose header line starts with `header`."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


@pytest.fixture(scope="module")
def report(case):
    return comparison_report(case["summary"], FIGURES)


def test_metric_table_numbers_come_from_the_summary(case, report):
    summary = case["summary"]
    rows = table_rows(report, "| metric |")
    assert [row[0] for row in rows] == ["accuracy", "macro F1"]
    for row, metric in zip(rows, ("accuracy", "macro_f1")):
        gain = summary[f"{metric}_gain"]
        assert row[1:] == [percent(summary[f"ann_{metric}"]["value"]), percent(summary[f"cnn_{metric}"]["value"]),
                           points(gain["value"]), f"{points(gain['ci_low'])} to {points(gain['ci_high'])}"]
    assert re.fullmatch(r"-?\d+\.\d\d%", percent(summary["ann_accuracy"]["value"]))


def test_per_class_gains_appear_largest_first(case, report):
    gains = case["summary"]["per_class_f1_gain"]
    rows = table_rows(report, "| class |")
    assert sorted(row[0] for row in rows) == sorted(CLASS_NAMES)
    assert rows == [[name, f"{gains[name]:+.3f}"] for name in sorted(gains, key=gains.get, reverse=True)]


def test_report_names_no_class_outside_class_names(report):
    mentioned = re.search(r"is largest on: (.*)\.$", report, re.MULTILINE).group(1)
    names = re.findall(r"(.+?) \([+-]\d\.\d{3}\)(?:, |$)", mentioned)
    assert names and set(names) <= set(CLASS_NAMES)
    assert {row[0] for row in table_rows(report, "| class |")} <= set(CLASS_NAMES)


def test_verdict_agrees_with_the_p_value(case, report):
    test = case["summary"]["mcnemar"]
    significant = test["p_value"] < case["summary"]["significance_level"]
    assert ("The difference is significant" in report) == significant
    assert ("The difference is not significant" in report) == (not significant)
    assert f"p = {test['p_value']:.3g}" in report
    assert f"{test['cnn_only_correct']} images only the CNN got right" in report
    assert f"{test['ann_only_correct']} only the ANN" in report


def test_headline_sentence_names_the_winner_and_the_gap(case, report):
    gain = case["summary"]["accuracy_gain"]
    winner, loser = ("CNN", "ANN") if gain["value"] >= 0 else ("ANN", "CNN")
    assert f"The {winner} is more accurate than the {loser} by {points(abs(gain['value']))}" in report
    assert f"{points(gain['ci_low'])} to {points(gain['ci_high'])}" in report


def test_report_links_every_figure(report):
    for title, path in FIGURES.items():
        assert f"- [{title}]({path})" in report


def test_report_names_the_confidence_level_plainly(case, report):
    assert f"{100 * case['summary']['confidence']:g}% bootstrap interval" in report

