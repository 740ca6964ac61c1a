"""End to end: the real dvc CLI on a temporary copy of the project, with a tiny synthetic IDX data set."""
import json
import re
import subprocess

import pytest
import vl_convert

from dvc_project import PROJECT, copy_project, edit_params, run, stages_a_repro_would_run
from fmnist.data import CLASS_NAMES
from fmnist.params import MODEL_NAMES
from fmnist.why.results import why_metrics

WHY_FIGURES = ["plots/compare/robustness.png", "plots/compare/learning_curves.png"] + [
    f"plots/explain/{model}/{name}.png" for model in ("ann", "cnn") for name in ("maps", "learned")]
WHY_CHARTS = ["Test accuracy on shifted test images (pixels, mean of the four directions)",
              "Test accuracy on rotated test images (degrees, positive counter-clockwise)",
              "Test accuracy on noisy test images (noise standard deviation as a share of 255)",
              "Learning curves, test accuracy against training images"]


@pytest.fixture(scope="module")
def project(built_study, tmp_path_factory):
    """This module's copy of the built study: its tests change it, in file order."""
    return copy_project(built_study, tmp_path_factory.mktemp("study"))


def test_repro_writes_metrics_for_both_models(project):
    root = project["path"]
    for model in MODEL_NAMES:
        metrics = json.loads((root / f"metrics/{model}.json").read_text())
        assert 0.0 <= metrics["accuracy"] <= 1.0
        assert set(metrics["macro"]) == {"precision", "recall", "f1"}
        assert list(metrics["per_class"]) == list(CLASS_NAMES)
        assert (root / f"models/{model}.keras").stat().st_size > 0
    compare = json.loads((root / "metrics/compare.json").read_text())
    assert set(compare["per_class_f1_gain"]) == set(CLASS_NAMES)
    assert 0.0 <= compare["mcnemar"]["p_value"] <= 1.0


def test_confusion_plot_data_holds_class_names(project):
    for model in MODEL_NAMES:
        records = json.loads((project["path"] / f"plots/{model}/confusion.json").read_text())
        assert len(records) == 100
        assert {record["actual"] for record in records} == set(CLASS_NAMES)
        assert {record["predicted"] for record in records} <= set(CLASS_NAMES)


def test_figures_and_report_exist(project):
    root = project["path"]
    expected = ["plots/samples.png", "plots/compare/per_class_f1.png", "plots/compare/per_class_f1.json",
                "plots/compare/f1/ann.json", "plots/compare/f1/cnn.json", "metrics/compare.md"] + [
        f"plots/{model}/{name}" for model in MODEL_NAMES
        for name in ("confusion.png", "misclassified.png", "reliability.png", "classification_report.csv")]
    for name in expected:
        assert (root / name).stat().st_size > 0, name
    assert not list(root.rglob(".tmp-*")), "a temporary file was left behind"


def test_metrics_show_lists_both_models(project):
    shown = run(project["path"], project["env"], *project["dvc"], "metrics", "show", "--json")
    metrics = json.loads(shown)
    files = next(iter(metrics.values()))["data"]
    assert {"metrics/ann.json", "metrics/cnn.json", "metrics/compare.json"} | {
        f"metrics/{kind}/{model}.json" for kind in ("control", "robustness", "data_efficiency")
        for model in MODEL_NAMES} <= set(files)


def test_why_stages_write_their_numbers_and_the_report_section(project):
    root = project["path"]
    why = why_metrics(root)
    control = why["control"]
    for model in MODEL_NAMES:
        assert (control[model]["train_images"], control[model]["seeds"]) == (100, [1, 2])
        for arm in ("original", "scrambled"):
            assert len(control[model][arm]["test"]["per_seed"]) == 2
            assert 0 <= control[model][arm]["validation"]["mean"] <= 1
    summary = json.loads((root / "metrics/compare.json").read_text())["control"]
    assert summary["seeds"] == 2 and len(summary["cnn"]["mcnemar_p_per_seed"]) == 2
    robustness = why["robustness"]
    for model in MODEL_NAMES:
        assert list(robustness[model]["shift"]) == ["0", "1", "2"]
        assert list(robustness[model]["rotation"]) == ["-10", "0", "10"]
        assert robustness[model]["shift"]["0"] == pytest.approx(  # the evaluate stage batches differently
            json.loads((root / f"metrics/{model}.json").read_text())["accuracy"], abs=0.02)
    efficiency = why["data_efficiency"]
    assert {model: list(points) for model, points in efficiency.items()} == {m: ["50", "100"] for m in MODEL_NAMES}
    assert efficiency["cnn"]["50"]["epochs"] == 2 and efficiency["cnn"]["100"]["epochs"] == 1
    for model in MODEL_NAMES:  # the largest point is the control's original arm, first seed: not trained twice
        assert efficiency[model]["100"]["test_accuracy"] == pytest.approx(
            control[model]["original"]["test"]["per_seed"][0], abs=1e-4)
    assert sum(line.startswith(f"data_efficiency {m}:") for line in project["first_repro"].splitlines()
               for m in MODEL_NAMES) == 2, "one subset trained per model"
    report = (root / "metrics/compare.md").read_text()
    assert "## Why the CNN wins" in report and "| gap (CNN - ANN) |" in report
    assert ("**The CNN's lead depends on" in report) != ("**These numbers do not show" in report), "one conclusion"
    for figure in WHY_FIGURES:
        assert (root / figure).stat().st_size > 0, figure
        assert f"(../{figure})" in report, f"the report links {figure}"


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_an_edit_of_one_model_reruns_its_branch_and_the_comparison_only(project, model):
    """The pipeline is two branches that meet at compare: a model's edit trains nothing of the other model."""
    stages = set(run(project["path"], project["env"], *project["dvc"], "stage", "list", "--name-only").split())
    params = project["path"] / "params.yaml"
    committed = params.read_text()
    try:
        edit_params(project["path"], {model: {"dropout": 0.3}})
        assert stages_a_repro_would_run(project) == {stage for stage in stages if model in stage} | {"compare"}
    finally:
        params.write_text(committed)
    assert stages_a_repro_would_run(project) == set(), "the check can fail: nothing is stale before the edit"


def test_noop_repro_runs_nothing(project):
    output = run(project["path"], project["env"], *project["dvc"], "repro")
    assert "Running stage" not in output


def test_plots_show_renders_both_confusion_matrices(project, tmp_path):
    root, env, dvc = project["path"], project["env"], project["dvc"]
    shown = json.loads(run(root, env, *dvc, "plots", "show", "--json"))["data"]
    for model in ("ANN", "CNN"):
        for kind in ("counts", "share of each actual class"):
            spec = shown[f"{model} confusion matrix, {kind}"][0]["content"]
            assert {row["actual"] for row in spec["data"]["values"]} == set(CLASS_NAMES)
            axes = spec["spec"]["encoding"]
            assert axes["x"]["sort"] == axes["y"]["sort"] == list(CLASS_NAMES), "label order, as in confusion.png"
            assert (axes["x"]["field"], axes["y"]["field"]) == ("predicted", "actual"), "a row per actual class"
    f1_bars = shown["Per-class F1 on the test set, ANN and CNN"][0]["content"]["data"]["values"]
    assert {row["filename"] for row in f1_bars} == {"ann.json", "cnn.json"}
    curves = shown["Accuracy per epoch (train and validation)"][0]["content"]["data"]["values"]
    assert {row["filename"].split("/")[0] for row in curves} == set(MODEL_NAMES)
    for title in WHY_CHARTS:
        assert {row["filename"] for row in shown[title][0]["content"]["data"]["values"]} == {"ann.json", "cnn.json"}
    images = ["plots/samples.png", "plots/compare/per_class_f1.png"] + WHY_FIGURES + [
        f"plots/{model}/{kind}.png" for model in MODEL_NAMES for kind in ("confusion", "misclassified", "reliability")]
    for image in images:
        assert shown[image][0]["type"] == "image", image
    run(root, env, *dvc, "plots", "show", "-o", str(tmp_path / "rendered"))
    html = (tmp_path / "rendered/index.html").read_text()
    assert "ANN confusion matrix, counts" in html and "CNN confusion matrix, counts" in html
    assert "cdn.jsdelivr" not in html, "the page must render offline: the vega libraries are inlined"


def test_the_plots_page_draws_the_why_charts_and_figures_in_a_real_browser(project, tmp_path, browser):
    """`dvc plots show` as a user opens it, offline, in headless Chromium: each new chart drawn, each figure loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    root, env, dvc = project["path"], project["env"], project["dvc"]
    run(root, env, *dvc, "plots", "show", "-o", str(tmp_path / "rendered"))
    browser.get((tmp_path / "rendered/index.html").as_uri())
    drawn = """return arguments[0].map(title => [...document.querySelectorAll('svg')].some(chart =>
        [...chart.querySelectorAll('.role-title-text')].some(text => text.textContent === title) &&
        chart.querySelectorAll('g.mark-line.role-mark path').length >= 2))"""  # titled, with both models' lines
    WebDriverWait(browser, 60).until(lambda driver: all(driver.execute_script(drawn, WHY_CHARTS)))
    assert not any(browser.execute_script(drawn, ["No such chart"])), "the check can fail"
    loaded = """return arguments[0].map(name => [...document.images].some(image =>
        decodeURIComponent(image.src).endsWith(name) && image.complete && image.naturalWidth > 0))"""
    copies = [figure.replace("/", "_") for figure in WHY_FIGURES]  # DVC copies each to static/<rev>_<path, _ for />
    WebDriverWait(browser, 30).until(lambda driver: all(driver.execute_script(loaded, copies)))
    assert not any(browser.execute_script(loaded, ["plots_explain_no_such.png"])), "the check can fail"


def test_plots_show_draws_each_model_in_its_colour_with_validation_dashed(project):
    """The curves' specs as `dvc plots show` fills them, drawn by vl-convert: what the page shows."""
    root, env, dvc = project["path"], project["env"], project["dvc"]
    shown = json.loads(run(root, env, *dvc, "plots", "show", "--json"))["data"]
    for title in ("Accuracy per epoch (train and validation)", "Loss per epoch (train and validation)"):
        svg = vl_convert.vegalite_to_svg(shown[title][0]["content"])
        lines = {curve: (colour, dash) for curve, colour, dash in re.findall(
            r'curve: ([^"]+)" [^>]*"line mark"[^>]*stroke="([^"]+)"[^>]*stroke-dasharray="([^"]+)"', svg)}
        assert set(lines) == {"ANN train", "ANN validation", "CNN train", "CNN validation"}, title
        colour = {curve: colour for curve, (colour, _) in lines.items()}
        assert colour["ANN train"] == colour["ANN validation"] != colour["CNN train"] == colour["CNN validation"]
        assert lines["ANN train"][1] == lines["CNN train"][1] == "1,0", "train solid"
        assert lines["ANN validation"][1] == lines["CNN validation"][1] != "1,0", "validation dashed"
        for curve in lines:
            assert f">{curve}</text>" in svg, f"the legend names {curve}"


def test_predict_gives_the_evaluate_stage_answers_on_the_test_images(project, tmp_path):
    """bin/predict on the test images written as PNG files: the classes and probabilities evaluate stored."""
    import numpy as np
    from PIL import Image

    root = project["path"]
    with np.load(root / "data/prepared/test.npz") as test:
        images = test["images"]
    assert len(images) == 100
    (tmp_path / "test").mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / "test" / f"{index:03d}.png")
    for model in MODEL_NAMES:
        with np.load(root / f"data/predictions/{model}.npz") as stored:
            expected = stored["probabilities"]
        result = subprocess.run([str(PROJECT / "bin/predict"), "test", "--model", model, "--top", "10", "--json",
                                 "--models-dir", str(root / "models")],
                                cwd=tmp_path, env=project["env"], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        records = json.loads(result.stdout)
        assert [record["path"] for record in records] == [f"test/{index:03d}.png" for index in range(len(images))]
        assert [record["class"] for record in records] == [CLASS_NAMES[index] for index in expected.argmax(axis=1)]
        probabilities = np.array([[{entry["class"]: entry["probability"] for entry in record["top"]}[name]
                                   for name in CLASS_NAMES] for record in records])
        np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
