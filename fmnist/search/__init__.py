"""Hyperparameter search on Optuna: a Pareto front of validation accuracy (up) against training seconds (down).

One study, shared by any number of workers: processes on one machine through a journal file, machines through
PostgreSQL. Each trial is params.yaml's section with the knobs of search.yaml sampled (the seed stays), trained
by fmnist.training.train_model, the function the train stages use, and scored on the validation split.

Modules: space (search.yaml), storage (the study, its storage and locks), workers (claiming and running trials),
stops (SIGTERM and SIGINT), report (results table, plot data, front figure), apply (a trial into params.yaml),
__main__ (the command line).
"""
from pathlib import Path

RESULTS_DIR = Path("search")  # the default study journal and the report
