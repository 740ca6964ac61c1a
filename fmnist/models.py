"""Model builders: each takes raw 0..255 images of shape (28, 28) and returns class probabilities."""
import keras
from keras import layers

from fmnist.data import CLASS_NAMES, IMAGE_SIDE
from fmnist.params import MODEL_NAMES


@keras.saving.register_keras_serializable(package="fmnist")
class HorizontalFlip(layers.Layer):
    """Mirror images left to right; used for test-time flip averaging."""

    def call(self, images):
        return keras.ops.flip(images, axis=2)


def image_inputs(params):
    """Input, scaling to [0, 1], and the training-only augmentation the params ask for."""
    inputs = keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), name="image")
    x = layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1))(inputs)
    x = layers.Rescaling(1 / 255)(x)
    if params.flip:
        x = layers.RandomFlip("horizontal", seed=params.seed)(x)
    if params.translate:
        x = layers.RandomTranslation(params.translate, params.translate, fill_mode="constant", seed=params.seed)(x)
    if params.erase:
        x = layers.RandomErasing(factor=params.erase, value_range=(0, 1), fill_value=0.0, seed=params.seed)(x)
    return inputs, x


def class_probabilities(x):
    return layers.Dense(len(CLASS_NAMES), activation="softmax", name="probabilities")(x)


def build_ann(params):
    """Flatten -> [Dense ReLU, Dropout] per hidden layer -> Dense softmax; no convolutions."""
    inputs, x = image_inputs(params)
    x = layers.Flatten()(x)
    for units in params.hidden_units:
        x = layers.Dense(units, activation="relu")(x)
        if params.dropout:
            x = layers.Dropout(params.dropout, seed=params.seed)(x)
    return keras.Model(inputs, class_probabilities(x), name="ann")


def build_cnn(params):
    """[Conv (BatchNorm) ReLU] x convs_per_block, MaxPool, per block -> Flatten -> Dense -> softmax."""
    inputs, x = image_inputs(params)
    for filters in params.filters:
        for _ in range(params.convs_per_block):
            x = layers.Conv2D(filters, params.kernel_size, padding=params.padding, use_bias=not params.batch_norm)(x)
            if params.batch_norm:
                x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    if params.dense_units:
        if params.dropout:
            x = layers.Dropout(params.dropout, seed=params.seed)(x)
        x = layers.Dense(params.dense_units, use_bias=not params.batch_norm)(x)
        if params.batch_norm:
            x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    if params.dropout:
        x = layers.Dropout(params.dropout, seed=params.seed)(x)
    return keras.Model(inputs, class_probabilities(x), name="cnn")


BUILDERS = {"ann": build_ann, "cnn": build_cnn}  # by model name, as fmnist.params.MODEL_PARAMS
assert tuple(BUILDERS) == MODEL_NAMES, "one builder per model of fmnist.params.MODEL_NAMES, in its order"


def with_flip_averaging(model):
    """The same model, answering with the mean of its outputs on the image and on its mirror."""
    inputs = keras.Input(shape=model.input_shape[1:], name="image")
    outputs = layers.Average()([model(inputs), model(HorizontalFlip()(inputs))])
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_averaged")
