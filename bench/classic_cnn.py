"""The classic small CNN of the Keras tutorials as a plain script: the yardstick for train_cnn's cost.

conv32 + max-pool, conv64 + max-pool, Dense 128, Adam, batch 32, 10 epochs, numpy arrays into `model.fit`, no
pipeline code; trained on the prepared training split (validation split scored each epoch, as train_cnn does)
and scored once on the test split. Prints one JSON line: the test accuracy and the training seconds.
bench/run.py times the whole process, as it times the train_cnn stage. Run from the project root.
"""
import json
import time

import keras
from keras import layers

from fmnist.data import load_split
from fmnist.paths import prepared_split

EPOCHS, BATCH_SIZE, SEED = 10, 32, 42  # the tutorials' settings: this script is a fixed reference, not a knob


def load(split):
    images, labels = load_split(prepared_split(split))
    return images[..., None].astype("float32") / 255, labels


def classic_cnn():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    keras.utils.set_random_seed(SEED)
    (x, y), validation, (x_test, y_test) = (load(split) for split in ("train", "validation", "test"))
    model = classic_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_data=validation, verbose=2)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(json.dumps({"test_accuracy": round(float(accuracy), 4), "fit_seconds": round(seconds, 1)}))


if __name__ == "__main__":
    main()
