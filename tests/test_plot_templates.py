"""fmnist.plot_templates: the committed .dvc/plots templates are the generated ones, with classes in label order."""
from pathlib import Path

import yaml

from fmnist.data import CLASS_NAMES
from fmnist.plot_templates import TEMPLATES_DIR, plot_templates, template_text

PROJECT = Path(__file__).resolve().parents[1]


def test_committed_templates_are_the_generated_ones():
    templates = plot_templates()
    assert sorted(path.stem for path in (PROJECT / TEMPLATES_DIR).glob("*.json")) == sorted(templates)
    for name, content in templates.items():
        committed = (PROJECT / TEMPLATES_DIR / f"{name}.json").read_text(encoding="utf-8")
        assert committed == template_text(content), f"{name}: run python -m fmnist.plot_templates"


def test_class_axes_follow_the_label_order():
    templates = plot_templates()
    for name in ("confusion_by_label", "confusion_normalized_by_label"):
        encoding = templates[name]["spec"]["encoding"]
        assert encoding["x"]["sort"] == encoding["y"]["sort"] == list(CLASS_NAMES)
    assert templates["bar_horizontal_by_label"]["encoding"]["y"]["sort"] == list(CLASS_NAMES)


def test_dvc_yaml_uses_every_template():
    named = {plot.get("template") for entry in yaml.safe_load((PROJECT / "dvc.yaml").read_text())["plots"]
             if isinstance(entry, dict) for plot in entry.values()}
    assert set(plot_templates()) <= named


def test_plot_titles_are_safe_in_dvcs_html_page():
    """DVC writes each title, unescaped, into a JavaScript string of dvc_plots/index.html: a quote breaks the page."""
    titles = [title for entry in yaml.safe_load((PROJECT / "dvc.yaml").read_text())["plots"]
              if isinstance(entry, dict) for title in entry]
    assert titles and not [title for title in titles if set(title) & set("'\"\\<>")]
