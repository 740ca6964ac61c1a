"""bin/predict: classify a user's own image files with a trained model, the way evaluate runs it on the test set."""
import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from fmnist.data import CLASS_NAMES, IMAGE_SIDE
from fmnist.errors import StudyError, run_stage
from fmnist.images import IMAGE_SUFFIXES, model_input
from fmnist.model_files import load_model, require_model
from fmnist.params import MODEL_NAMES, PARAMS_FILE, EvaluateParams, load_params
from fmnist.paths import model_file

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOP = 3


def whole_number(low, high=None):
    """An argparse type: an integer from low to high (no upper bound when high is None)."""
    span = f"of at least {low}" if high is None else f"from {low} to {high}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {span}, got {text!r}")
        return value
    return parse


def evaluate_batch_size():
    """params.yaml's evaluate.batch_size: bin/predict batches as the evaluate stage does, for the same probabilities."""
    return load_params("evaluate", EvaluateParams, PROJECT_ROOT / PARAMS_FILE).batch_size


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="bin/predict",
        description="Classify image files (PNG, JPEG, GIF, WebP, BMP, TIFF; any size and colour mode) with a "
                    "trained model. Prints one row per image: path, then the K most probable classes, each "
                    "followed by its probability, tab-separated.",
        epilog="Exit status: 0 when every image was classified, 1 when any file failed (each named on stderr), "
               "2 on a usage error or a missing or damaged model.")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="an image file, or a folder searched recursively for "
                             f"{', '.join(sorted(IMAGE_SUFFIXES))} files (hidden ones skipped)")
    parser.add_argument("--model", choices=MODEL_NAMES, default="cnn", help="which trained model (default: cnn)")
    parser.add_argument("--top", type=whole_number(1, len(CLASS_NAMES)), default=DEFAULT_TOP, metavar="K",
                        help=f"classes shown per image, most probable first (1 to {len(CLASS_NAMES)}; "
                             f"default: {DEFAULT_TOP})")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON list instead: per image its path, class, probability and the top K")
    parser.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / model_file("cnn").parent, metavar="DIR",
                        help="folder holding ann.keras and cnn.keras (default: this project's models/, "
                             "where `dvc pull` or `dvc repro` puts them)")
    batch_size = evaluate_batch_size()
    parser.add_argument("--batch-size", type=whole_number(1), default=batch_size, metavar="N",
                        help=f"images decoded and classified at a time (default: {batch_size}, "
                             "params.yaml's evaluate.batch_size)")
    return parser.parse_args(argv)


def image_files(path):
    """The files `path` names: itself, or a folder's image files in sorted order, searched recursively."""
    if not path.is_dir():
        return [path]
    found = []
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        found += [Path(folder) / name for name in sorted(names)
                  if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES]
    return found


def model_inputs(paths, report):
    """(paths, uint8 images (n, 28, 28)) of the files that decode; each failure goes to report(line)."""
    kept, images = [], []
    for path in paths:
        try:
            images.append(model_input(path, name=path))
            kept.append(path)
        except StudyError as error:
            report(str(error))
    return kept, np.stack(images) if images else np.zeros((0, IMAGE_SIDE, IMAGE_SIDE), np.uint8)


def class_probabilities(model, images):
    """float32 class probabilities (n, 10) of uint8 images (n, 28, 28), in one model call: bin/predict's and
    bin/serve's, so both answer alike."""
    return np.asarray(model.predict_on_batch(images.astype("float32")))


def ranked(probabilities, top):
    """The `top` (class name, probability) pairs of one image, most probable first (ties: lower index first)."""
    order = np.argsort(-probabilities, kind="stable")[:top]
    return [(CLASS_NAMES[index], float(probabilities[index])) for index in order]


def text_row(path, ranking):
    return "\t".join([str(path)] + [f"{name}\t{probability:.4f}" for name, probability in ranking])


def json_record(path, ranking):
    return {"path": str(path), "class": ranking[0][0], "probability": ranking[0][1],
            "top": [{"class": name, "probability": probability} for name, probability in ranking]}


def classify(paths, model_path, model_name, batch_size, report):
    """Yield (path, probabilities) per decodable file, in order; the model loads once, at the first good image."""
    model = None
    for start in range(0, len(paths), batch_size):
        kept, images = model_inputs(paths[start:start + batch_size], report)
        if not kept:
            continue
        if model is None:
            model = load_model(model_path, model_name)
        yield from zip(kept, class_probabilities(model, images))


def main(argv=None):
    """Run the command; returns the exit status. A missing or damaged model raises StudyError (exit 2)."""
    args = parse_args(argv)
    failures = []

    def report(line):
        failures.append(line)
        print(f"error: {line}", file=sys.stderr, flush=True)

    paths = []
    for path in args.paths:
        found = image_files(path)  # a missing path stays in, to be reported in its turn
        if not found:
            report(f"{path}: no {'/'.join(sorted(IMAGE_SUFFIXES))} files in this folder or below: "
                   "name image files with other endings one by one")
        paths += found
    model_path = require_model(args.models_dir / model_file(args.model).name, args.model)
    records = []
    for path, probabilities in classify(paths, model_path, args.model, args.batch_size, report):
        ranking = ranked(probabilities, args.top)
        if args.json:
            records.append(json_record(path, ranking))
        else:
            print(text_row(path, ranking))
    if args.json:  # one image per line, still one JSON document
        print("[" + ",\n ".join(json.dumps(record) for record in records) + "]")
    sys.stdout.flush()
    return 1 if failures else 0


def run():
    """The command line entry: exit status from main, a StudyError as one line (exit 2), a closed pipe or Ctrl-C
    without a traceback."""
    try:
        run_stage(lambda: sys.exit(main()))
    except BrokenPipeError:  # `bin/predict photos/ | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    run()
