"""DVC plot templates (.dvc/plots/*.json): classes in label order, training curves per model, the search front.

DVC's built-in confusion and bar templates sort class names alphabetically; these are the same templates with the
class axes in CLASS_NAMES order, like the matplotlib figures. `python -m fmnist.plot_templates` writes them; they
are committed, and tests/test_plot_templates.py checks that they are what this module generates.
"""
import copy
import json
from pathlib import Path

from dvc_render.vega_templates import BarHorizontalTemplate, ConfusionTemplate, NormalizedConfusionTemplate, Template

from fmnist.atomic import write_text
from fmnist.data import CLASS_NAMES

TEMPLATES_DIR = Path(".dvc/plots")  # where DVC finds a template that dvc.yaml names (`template: training_curves`)
# Two entries per hue (Vega's tableau10): with the legend sorted, a model's train and validation curves share one.
CURVE_COLOURS = [colour for colour in ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#b279a2") for _ in range(2)]
CURVE_DASHES = [[1, 0], [6, 4]]  # train solid, validation dashed
LEGEND = {"symbolType": "stroke", "symbolStrokeWidth": 2, "symbolSize": 400}  # lines long enough to show the dash


def in_label_order(builtin, *axes):
    """DVC's built-in template `builtin` with the class names on `axes` in CLASS_NAMES order."""
    content = copy.deepcopy(builtin.DEFAULT_CONTENT)
    encoding = content["spec"]["encoding"] if "spec" in content else content["encoding"]
    for axis in axes:
        encoding[axis]["sort"] = list(CLASS_NAMES)
    return content


def chart_frame():
    """What every custom template starts with: the schema and DVC's anchors for data, title, size and zoom."""
    anchor = Template.anchor
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": anchor("data")},
        "title": {"text": anchor("title"), "anchor": "middle"},
        "width": anchor("plot_width"),
        "height": anchor("plot_height"),
        "params": [anchor("zoom_and_pan")],
    }


def training_curves():
    """Train and validation curves of both models in one chart, one legend: "ANN train", "ANN validation", ...

    DVC names each series by its file, dvclive's <model>/plots/metrics/{train,eval}/<metric>.tsv. Under
    `dvc plots diff` the legend entries start with the revision, and each revision's models get their own colours.
    """
    anchor = Template.anchor
    curve = ("(datum.revisions > 1 ? datum.rev + ': ' : '') + upper(split(datum.filename, '/')[0])"
             " + (indexof(datum.filename, '/eval/') >= 0 ? ' validation' : ' train')")
    return {
        **chart_frame(),
        "transform": [
            {"joinaggregate": [{"op": "distinct", "field": "rev", "as": "revisions"}]},
            {"calculate": curve, "as": "curve"},
        ],
        "mark": {"type": "line", "point": {"size": 16}, "tooltip": {"content": "data"}},
        "encoding": {
            "x": {"field": anchor("x"), "type": "quantitative", "title": anchor("x_label")},
            "y": {"field": anchor("y"), "type": "quantitative", "title": anchor("y_label"), "scale": {"zero": False}},
            # colour and dash on the same field: Vega-Lite draws one legend whose entries show both
            "color": {"field": "curve", "type": "nominal", "sort": "ascending", "title": None,
                      "scale": {"range": CURVE_COLOURS}, "legend": LEGEND},
            "strokeDash": {"field": "curve", "type": "nominal", "sort": "ascending", "title": None,
                           "scale": {"range": CURVE_DASHES}, "legend": LEGEND},
        },
    }


def search_front():
    """bin/search's trials, front and default (search/plot/*.json) as one scatter, on an axis that fits them."""
    anchor = Template.anchor
    return {
        **chart_frame(),
        "transform": [{"calculate": "replace(datum.filename, '.json', '')", "as": "points"}],
        "mark": {"type": "point", "filled": True, "tooltip": {"content": "data"}},
        "encoding": {
            "x": {"field": anchor("x"), "type": "quantitative", "title": "training seconds", "scale": {"zero": False}},
            "y": {"field": anchor("y"), "type": "quantitative", "title": "validation accuracy",
                  "scale": {"zero": False}},
            # colour and size on one field: one legend; ranges in the domain's sorted order: default, front, trials
            "color": {"field": "points", "type": "nominal", "title": None,
                      "scale": {"range": ["#e45756", "#4c78a8", "#bab0ac"]}},
            "size": {"field": "points", "type": "nominal", "title": None, "scale": {"range": [160, 80, 30]}},
        },
    }


def plot_templates():
    """Each template's name (what dvc.yaml's `template:` says) and content."""
    return {
        "confusion_by_label": in_label_order(ConfusionTemplate, "x", "y"),
        "confusion_normalized_by_label": in_label_order(NormalizedConfusionTemplate, "x", "y"),
        "bar_horizontal_by_label": in_label_order(BarHorizontalTemplate, "y"),
        "training_curves": training_curves(),
        "search_front": search_front(),
    }


def template_text(content):
    return json.dumps(content, indent=2) + "\n"


def main():
    for name, content in plot_templates().items():
        write_text(TEMPLATES_DIR / f"{name}.json", template_text(content))
        print(f"wrote {TEMPLATES_DIR / name}.json")


if __name__ == "__main__":
    main()
