"""bin/search's command line: run a study's workers, or report it, or apply one of its trials to params.yaml."""
import argparse
import sys
from pathlib import Path

import fmnist.search
from fmnist.errors import StudyError, require_input, run_stage
from fmnist.params import MODEL_NAMES
from fmnist.paths import prepared_split
from fmnist.search.apply import apply_trial
from fmnist.search.report import print_report, write_report
from fmnist.search.space import load_space
from fmnist.search.storage import DEFAULT_STORAGE, is_url, open_storage, open_study
from fmnist.search.stops import Stopped, catch_stops, stop_handled
from fmnist.search.workers import run_worker, run_workers


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bin/search", description=fmnist.search.__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODEL_NAMES, default="cnn", help="model to search (default cnn)")
    parser.add_argument("--trials", type=int, default=40, help="finished trials the study stops at (default 40)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    parser.add_argument("--storage", default=str(DEFAULT_STORAGE),
                        help=f"journal file (default {DEFAULT_STORAGE}) or postgresql://USER@HOST:PORT/DB")
    parser.add_argument("--study-name", help="study name (default: the model's name)")
    actions = parser.add_mutually_exclusive_group()
    actions.add_argument("--create", action="store_true", help="create the study, run nothing (before many workers)")
    actions.add_argument("--report", action="store_true", help="write the results table and front plot, run nothing")
    actions.add_argument("--apply", type=int, metavar="TRIAL", help="write TRIAL's values into params.yaml")
    parser.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)  # workers of --workers N
    args = parser.parse_args(argv)
    if args.trials < 1 or args.workers < 1:
        parser.error("--trials and --workers must be at least 1")
    args.study_name = args.study_name or args.model
    return args


def main(argv=None):
    args = parse_args(argv)
    catch_stops()
    try:
        run_command(args)
    except Stopped as stop:
        stop_handled()
        sys.exit(128 + stop.signum)


def run_command(args):
    searching = not (args.report or args.apply is not None)
    if searching:
        knobs = load_space(args.model)  # the whole space, checked before any study or trial
        for split in ("train", "validation"):
            require_input(prepared_split(split), "preprocess")
    elif not is_url(args.storage) and not Path(args.storage).is_file():
        raise StudyError(f"no study journal at {args.storage}: run a search first, or pass its --storage")
    storage = open_storage(args.storage)
    study = open_study(storage, args, may_create=searching)
    if args.create:
        return
    if args.apply is not None:
        changes = apply_trial(study, args.apply, args.model)
        print(f"params.yaml: trial {args.apply} applied: {'; '.join(changes) or 'no change'}")
        print(f"next: dvc status (train_{args.model} is stale), dvc repro, dvc metrics diff")
        return
    code = 0
    if searching:
        if args.workers > 1:
            code = run_workers(args)
        else:
            run_worker(args, study, storage, knobs)
    if not args.no_report:
        print_report(write_report(study, args.model), args)
    if code:
        sys.exit(code)


if __name__ == "__main__":
    run_stage(main)
