"""Where each stage reads and writes, relative to the project root; dvc.yaml declares the same paths."""
from pathlib import Path

RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
SAMPLE_GRID = Path("plots/samples.png")
COMPARE_METRICS = Path("metrics/compare.json")
COMPARE_REPORT = Path("metrics/compare.md")
COMPARE_PLOTS = Path("plots/compare")
ROBUSTNESS_FIGURE = COMPARE_PLOTS / "robustness.png"
LEARNING_CURVES_FIGURE = COMPARE_PLOTS / "learning_curves.png"


def prepared_split(split):
    return PREPARED_DIR / f"{split}.npz"


def model_file(model):
    return Path("models") / f"{model}.keras"


def training_log_dir(model):
    return Path("dvclive") / model


def predictions_file(model):
    return Path("data/predictions") / f"{model}.npz"


def metrics_file(model):
    return Path("metrics") / f"{model}.json"


def evaluation_plots_dir(model):
    return Path("plots") / model


# The why stages, one per model (docs/why.md); compare draws the figures that show both.
def control_predictions(model):
    return Path("data/control") / f"{model}.npz"


def why_metrics_file(kind, model):
    """kind: control, robustness or data_efficiency."""
    return Path("metrics") / kind / f"{model}.json"


def robustness_curve(kind, model):
    return Path("plots/robustness") / kind / f"{model}.json"


def learning_curve(model):
    return Path("plots/data_efficiency") / f"{model}.json"


def explain_plots(model):
    return Path("plots/explain") / model
