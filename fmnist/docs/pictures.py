"""The pictures in docs/ that show the committed run, drawn from the committed metrics by the figure functions the
stages use, as PNG files without the matplotlib version in them: the same data and packages give the same bytes,
so a redraw that differs from the committed file means the picture is stale."""
import tempfile
from pathlib import Path

from fmnist.atomic import save_figure
from fmnist.comparison import per_class_f1
from fmnist.docs.committed import ROOT, model_metrics, why_metrics
from fmnist.figures import per_class_f1_bars
from fmnist.why.figures import robustness_figure
from fmnist.why.report import MODELS
from fmnist.why.robustness import curves_from_metrics

STABLE_PNG = {"Software": None}


def per_class_f1_picture():
    return per_class_f1_bars({model: per_class_f1(model_metrics(model)) for model in MODELS})


def robustness_picture():
    """The compare stage's robustness figure, drawn from the committed metrics as compare draws it."""
    curves = why_metrics("robustness")
    return robustness_figure({model: curves_from_metrics(curves[model]) for model in MODELS})


PICTURES = {Path("docs/per_class_f1.png"): per_class_f1_picture, Path("docs/why_robustness.png"): robustness_picture}


def draw(path, root=ROOT):
    save_figure(PICTURES[path](), root / path, metadata=STABLE_PNG)


def draw_pictures(root=ROOT):
    for path in PICTURES:
        draw(path, root)


def stale_pictures(root=ROOT):
    """The pictures whose redraw differs from the file in `root`, each as 'path: why'."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        for path in PICTURES:
            draw(path, Path(scratch))
            committed = root / path
            if not committed.exists() or committed.read_bytes() != (Path(scratch) / path).read_bytes():
                problems.append(f"{path}: differs from a redraw from the committed metrics")
    return problems
