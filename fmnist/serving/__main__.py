"""bin/serve: the web app and HTTP API over the two trained models, on uvicorn (docs/serve.md)."""
import argparse
import hashlib
import ipaddress
import signal
import sys
from pathlib import Path

import yaml

from fmnist.errors import StudyError, run_stage
from fmnist.model_files import require_model
from fmnist.params import MODEL_NAMES, PARAMS_FILE, ServeParams, load_params
from fmnist.paths import model_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = "dvc.lock"


def parse_args(argv, settings):
    parser = argparse.ArgumentParser(
        prog="bin/serve",
        description="Serve a web page and a JSON API (POST /api/predict, GET /api/health, /openapi.json) over the "
                    "trained ANN and CNN. Defaults come from params.yaml's serve section.",
        epilog="Exit status: 0 after Ctrl-C or SIGTERM (in-flight requests finish first), 2 when a model is "
               "missing or damaged or the options are wrong.")
    parser.add_argument("--host", default=settings.host,
                        help=f"address to listen on (default: {settings.host}, this machine only; 0.0.0.0 opens "
                             "it to every network this machine is on)")
    parser.add_argument("--port", type=int, default=settings.port, help=f"TCP port (default: {settings.port}; 0: any "
                                                                        "free port, printed at start)")
    parser.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / model_file("cnn").parent, metavar="DIR",
                        help="folder holding ann.keras and cnn.keras (default: this project's models/)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, got {args.port}")
    return args


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def file_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locked_md5s(root):
    """{path: md5} of every output dvc.lock records; empty without dvc.lock."""
    path = root / LOCK_FILE
    if not path.exists():
        return {}
    stages = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stages", {})
    return {out["path"]: out.get("md5") for stage in stages.values() for out in stage.get("outs", [])}


def served_models(models_dir, settings):
    """{name: ServedModel}, every file checked before TensorFlow is imported (a missing one is one line)."""
    paths = {name: require_model(models_dir / model_file(name).name, name) for name in MODEL_NAMES}
    from fmnist.model_files import load_model
    from fmnist.prediction import class_probabilities
    from fmnist.serving.app import ServedModel
    from fmnist.serving.batching import MicroBatcher

    locked = locked_md5s(PROJECT_ROOT)
    served = {}
    for name, path in paths.items():
        model = load_model(path, name)
        shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        batcher = MicroBatcher(lambda images, model=model: class_probabilities(model, images),
                               settings.max_batch_images, name)
        served[name] = ServedModel(name, model, str(shown), file_md5(path), locked.get(str(shown)), batcher)
    return served


def main(argv=None):
    settings = load_params("serve", ServeParams, PROJECT_ROOT / PARAMS_FILE)
    args = parse_args(argv, settings)
    from fmnist.serving.lab import study_seeds

    seeds = study_seeds(PROJECT_ROOT / PARAMS_FILE)  # a bad robustness or control section: one line, before the models
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine can use the models",
              file=sys.stderr, flush=True)
    served = served_models(args.models_dir.resolve(), settings)
    import uvicorn

    from fmnist.serving.app import create_app

    app = create_app(served, settings, PROJECT_ROOT, seeds)
    config = uvicorn.Config(app, host=args.host, port=args.port, access_log=False, log_level="info",
                            timeout_graceful_shutdown=settings.shutdown_timeout_s, server_header=False)
    # uvicorn finishes in-flight requests on SIGINT/SIGTERM, then raises the signal again under the handlers it found
    # installed: these make that a normal exit (status 0) instead of a KeyboardInterrupt or a death by SIGTERM.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda number, frame: None)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    try:
        run_stage(main)
    except KeyboardInterrupt:  # Ctrl-C while the models load
        sys.exit(130)
