"""Stage evaluate (one per model): test-set predictions, metrics, confusion data and figures."""
import numpy as np

from fmnist.atomic import save_arrays, save_figure, write_json, write_text
from fmnist.data import load_split
from fmnist.errors import run_stage
from fmnist.evaluation import (classification_metrics, classification_report_table,
                               confidence_bins, confusion_counts, confusion_records,
                               misclassified_examples)
from fmnist.figures import confusion_heatmap, misclassified_gallery, reliability_diagram
from fmnist.model_files import load_model
from fmnist.params import EvaluateParams, model_argument, load_params
from fmnist.paths import evaluation_plots_dir, metrics_file, model_file, predictions_file, prepared_split


def main():
    model_name = model_argument("evaluate")
    params = load_params("evaluate", EvaluateParams)
    images, labels = load_split(prepared_split("test"))
    model = load_model(model_file(model_name), model_name)
    probabilities = model.predict(images.astype("float32"), batch_size=params.batch_size, verbose=0)
    predicted = probabilities.argmax(axis=1)
    title = f"{model_name.upper()} on the test set"
    plots = evaluation_plots_dir(model_name)

    save_arrays(predictions_file(model_name), probabilities=probabilities.astype("float32"), labels=labels)
    write_json(metrics_file(model_name), classification_metrics(labels, probabilities, params.calibration_bins))
    write_text(plots / "classification_report.csv", classification_report_table(labels, predicted).to_csv())
    write_json(plots / "confusion.json", confusion_records(labels, predicted))
    save_figure(confusion_heatmap(confusion_counts(labels, predicted), title), plots / "confusion.png")
    examples = misclassified_examples(labels, probabilities, params.gallery_pairs, params.gallery_images_per_pair)
    save_figure(misclassified_gallery(images, examples, f"{title}: most confused pairs"), plots / "misclassified.png")
    save_figure(reliability_diagram(confidence_bins(labels, probabilities, params.calibration_bins), title),
                plots / "reliability.png")
    print(f"evaluate {model_name}: test accuracy {np.mean(predicted == labels):.4f}")


if __name__ == "__main__":
    run_stage(main)
