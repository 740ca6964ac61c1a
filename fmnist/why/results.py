"""The why stages' metrics of both models, read back from their per-model files as {kind: {model: metrics}}."""
import json
from pathlib import Path

from fmnist.params import MODEL_NAMES
from fmnist.paths import why_metrics_file

WHY_KINDS = ("control", "robustness", "data_efficiency")


def why_metrics_files(root=Path(".")):
    """{kind: {model: path}} of every why metrics file, under root."""
    return {kind: {model: root / why_metrics_file(kind, model) for model in MODEL_NAMES} for kind in WHY_KINDS}


def why_metrics(root=Path(".")):
    """{kind: {model: metrics}} for each kind whose files exist for every model (a stage not yet run is left out)."""
    return {kind: {model: json.loads(path.read_text(encoding="utf-8")) for model, path in paths.items()}
            for kind, paths in why_metrics_files(root).items() if all(path.exists() for path in paths.values())}
