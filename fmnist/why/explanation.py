"""What the trained models learned, as arrays to draw: which test images to explain, the CNN's first-layer filters
and feature maps, and the ANN's most influential first-layer units as 28x28 weight pictures.

The maps themselves come from fmnist.why.attribution (HiResCAM for the CNN, input-gradient saliency for the ANN).
"""
import keras
import numpy as np

from fmnist.why.attribution import parts
from fmnist.data import CLASS_NAMES, IMAGE_SIDE


def explained_images(labels, probabilities):
    """Per class, in class order: its most confident correct answer and its most confident mistake (an image of
    the class given another class), as {"class", "kind", "index", "predicted", "confidence"}; a class without
    either has no such entry."""
    predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
    picks = []
    for label in range(len(CLASS_NAMES)):
        for kind, chosen in (("correct", (labels == label) & (predicted == label)),
                             ("mistake", (labels == label) & (predicted != label))):
            if chosen.any():
                index = int(np.flatnonzero(chosen)[np.argmax(confidence[chosen])])
                picks.append({"class": label, "kind": kind, "index": index, "predicted": int(predicted[index]),
                              "confidence": float(confidence[index])})
    return picks


def layers_of(model, kind):
    network, _ = parts(model)
    return network, [layer for layer in network.layers if isinstance(layer, kind)]


def first_layer_filters(model):
    """The first convolution's kernels, (filters, k, k), of its first input channel."""
    _, convolutions = layers_of(model, keras.layers.Conv2D)
    return np.moveaxis(np.asarray(convolutions[0].kernel)[:, :, 0, :], -1, 0)


def first_block_feature_maps(model, image):
    """What the first block outputs for one uint8 image (28, 28): (filters, h, w), after its normalisation and
    activation (the layer before the first pooling), on the image as given (no mirror averaging)."""
    network, _ = parts(model)
    pools = [i for i, layer in enumerate(network.layers) if isinstance(layer, keras.layers.MaxPooling2D)]
    block_output = network.layers[pools[0] - 1] if pools else layers_of(model, keras.layers.Conv2D)[1][0]
    maps = keras.Model(network.input, block_output.output)(image[None].astype(np.float32), training=False)
    return np.moveaxis(np.asarray(maps)[0], -1, 0)


def influential_units(model, images, count):
    """The ANN's `count` first-dense-layer units with the largest influence on what follows, and those influences.

    A unit's influence: its mean activation over `images` times the size (L2 norm) of its outgoing weights.
    Returns (weights (count, 28, 28): each unit's incoming weights as a picture, influences (count,))."""
    network, dense = layers_of(model, keras.layers.Dense)
    first, following = dense[0], dense[1]
    activations = np.asarray(keras.Model(network.input, first.output)(images.astype(np.float32), training=False))
    influence = activations.mean(axis=0) * np.linalg.norm(np.asarray(following.kernel), axis=1)
    top = np.argsort(influence)[::-1][:count]
    weights = np.asarray(first.kernel)[:, top].T.reshape(len(top), IMAGE_SIDE, IMAGE_SIDE)
    return weights, influence[top]
