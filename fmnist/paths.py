"""Where each stage reads and writes, relative to the project root; dvc.yaml declares the same paths."""
from pathlib import Path

RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
SAMPLE_GRID = Path("plots/samples.png")
COMPARE_METRICS = Path("metrics/compare.json")
COMPARE_REPORT = Path("metrics/compare.md")
COMPARE_PLOTS = Path("plots/compare")
CONTROL_PREDICTIONS = Path("data/control/predictions.npz")
CONTROL_METRICS = Path("metrics/control.json")
ROBUSTNESS_METRICS = Path("metrics/robustness.json")
ROBUSTNESS_PLOTS = Path("plots/robustness")
DATA_EFFICIENCY_METRICS = Path("metrics/data_efficiency.json")
DATA_EFFICIENCY_PLOTS = Path("plots/data_efficiency")
EXPLAIN_PLOTS = Path("plots/explain")


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
