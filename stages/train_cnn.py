"""Stage train_cnn: the convolutional network, trained on the prepared split."""
from fmnist.errors import run_stage
from fmnist.models import build_cnn
from fmnist.params import CnnParams
from fmnist.training import train_stage


def main():
    train_stage("cnn", CnnParams, build_cnn)


if __name__ == "__main__":
    run_stage(main)
