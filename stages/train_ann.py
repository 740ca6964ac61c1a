"""Stage train_ann: the dense baseline (no convolutions), trained on the prepared split."""
from fmnist.errors import run_stage
from fmnist.models import build_ann
from fmnist.params import AnnParams
from fmnist.training import train_stage


def main():
    train_stage("ann", AnnParams, build_ann)


if __name__ == "__main__":
    run_stage(main)
