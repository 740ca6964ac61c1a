"""fmnist.summary: bin/pipeline's closing lines, from the compare.json that compare_models writes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import project_params
from fmnist.comparison import compare_models
from fmnist.data import CLASS_NAMES
from fmnist.params import CompareParams
from fmnist.summary import summarize, summary_lines
from test_comparison import metrics_of, predictions_with_accuracy

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compare():
    """compare.json's content for 400 images, the CNN right on about 85%, the ANN on about 65%."""
    rng = np.random.default_rng(3)
    labels = np.arange(400) % len(CLASS_NAMES)
    ann, cnn = predictions_with_accuracy(labels, 0.65, rng), predictions_with_accuracy(labels, 0.85, rng)
    params = project_params("compare", CompareParams, bootstrap_resamples=100, confidence=0.95,
                            significance_level=0.05)
    return json.loads(json.dumps(compare_models(labels, ann, cnn, metrics_of(labels, ann), metrics_of(labels, cnn),
                                                params)))


def write_compare(root, content):
    path = root / "metrics/compare.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))


def test_lines_hold_accuracies_gain_interval_and_p_value(compare):
    lines = summary_lines(compare)
    assert len(lines) == 3
    gain = compare["accuracy_gain"]
    assert f"ANN {compare['ann_accuracy']['value']:.4f}, CNN {compare['cnn_accuracy']['value']:.4f}" in lines[0]
    assert f"{100 * gain['value']:+.2f} points" in lines[1]
    assert f"95% interval {100 * gain['ci_low']:+.2f} to {100 * gain['ci_high']:+.2f}" in lines[1]
    assert f"p = {compare['mcnemar']['p_value']:.3g} (significant at 0.05)" in lines[1]
    assert lines[2] == "Plots: dvc_plots/index.html   Report: metrics/compare.md"
    assert max(map(len, lines)) <= 110, "readable without wrapping"


def test_the_control_gets_a_line_when_compare_has_it(compare):
    control = {model: {"change": {"value": change}, "seeds_test_p": p_value}
               for model, change, p_value in (("ann", 0.0006, 0.14), ("cnn", -0.0341, 0.0023))}
    lines = summary_lines(compare | {"control": control})
    assert len(lines) == 4
    assert lines[2] == ("Scrambled pixels, mean change over seeds: CNN -3.41 points (p = 0.0023), "
                        "ANN +0.06 points (p = 0.14)")
    assert max(map(len, lines)) <= 110


def test_verdict_follows_the_significance_level(compare):
    assert "(not significant at 0.05)" in summary_lines(compare | {"mcnemar": compare["mcnemar"] | {"p_value": 0.3}})[1]
    assert "(significant at 0.5)" in summary_lines(compare | {"mcnemar": compare["mcnemar"] | {"p_value": 0.3},
                                                              "significance_level": 0.5})[1]


def test_plots_page_is_named_only_when_written(tmp_path, compare):
    write_compare(tmp_path, compare)
    assert summarize(tmp_path)[-1].startswith("Plots: run `dvc plots show` to write it")
    (tmp_path / "dvc_plots").mkdir()
    (tmp_path / "dvc_plots/index.html").write_text("<html></html>")
    assert summarize(tmp_path)[-1].startswith("Plots: dvc_plots/index.html")


@pytest.mark.parametrize("content, expected", [
    (None, "no metrics/compare.json yet: the compare stage has not run"),
    ("{", "metrics/compare.json is unreadable (Expecting property name"),
    ({"accuracy_gain": {"value": 0.1}}, "metrics/compare.json is unreadable (no key 'mcnemar')"),
    ({"accuracy_gain": None, "mcnemar": None}, "metrics/compare.json is unreadable ("),
])
def test_missing_or_broken_metrics_give_one_line(tmp_path, content, expected):
    if content is not None:
        write_compare(tmp_path, content)
    lines = summarize(tmp_path)
    assert len(lines) == 1 and lines[0].startswith(f"summary: {expected}"), lines


def test_module_run_by_bin_pipeline_prints_one_line_and_succeeds_without_metrics(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fmnist.summary"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "summary: no metrics/compare.json yet: the compare stage has not run (`dvc repro compare`)"]
