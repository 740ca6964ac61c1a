"""Stage train_cnn: the convolutional network, trained on the prepared split."""
from fmnist.data import load_split
from fmnist.errors import run_stage
from fmnist.params import MODEL_PARAMS, load_params
from fmnist.paths import prepared_split

MODEL = "cnn"


def main():
    params = load_params(MODEL, MODEL_PARAMS[MODEL])
    train, validation = (load_split(prepared_split(split)) for split in ("train", "validation"))
    # TensorFlow only now: its start-up notices (which no log level silences) must not bury an input error
    from fmnist.models import BUILDERS
    from fmnist.training import train_stage
    train_stage(MODEL, params, BUILDERS[MODEL], train, validation)


if __name__ == "__main__":
    run_stage(main)
