"""What a trained model looked at: class activation maps for a network with convolutions, input-gradient saliency
for any.

The maps are HiResCAM (Draelos and Carin 2020), Grad-CAM's variant that multiplies gradient and activation position by
position instead of weighting each channel by its gradient averaged over the map. The average suits a network that
pools globally; behind Flatten and Dense every position has its own weights, and the average cancels: plain Grad-CAM
gave an empty map (all below zero) for 36 of the first 200 test images on the committed CNN, HiResCAM for none.

Both take the saved (deployed) model and uint8 images (n, 28, 28), and return maps (n, 28, 28) in [0, 1], each
scaled by its own maximum, for the given classes. Both explain the class's logit (the score before the softmax,
as Grad-CAM prescribes): the probability saturates for a confident answer and its gradient fades with it.
A flip-averaged model answers with the mean of two passes; its map is the mean of the image's map and the
mirror's map mirrored back, as its answer is.
"""
import functools

import keras
import numpy as np
import tensorflow as tf


def parts(model):
    """(the network inside, whether the saved model flip-averages it): the inner model of with_flip_averaging."""
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return (inner[0], True) if inner else (model, False)


def last_feature_maps(network):
    """The last layer with a spatial output (rank 4) that is not pooling: the finest late features."""
    spatial = [layer for layer in network.layers
               if len(layer.output.shape) == 4 and not isinstance(layer, keras.layers.MaxPooling2D)]
    return spatial[-1]


def has_feature_maps(model):
    network, _ = parts(model)
    return any(isinstance(layer, keras.layers.Conv2D) for layer in network.layers)


@functools.cache  # built once per network: bin/serve explains on every request
def logit_model(network, with_feature_maps):
    """(a model: inputs -> [last feature maps, if asked,] the softmax layer's input; a function (that input,
    classes) -> the classes' logits). A model of one output returns it bare, not in a list.

    The softmax layer is the network's last Dense layer (fmnist.models.class_probabilities)."""
    head = [layer for layer in network.layers if isinstance(layer, keras.layers.Dense)][-1]
    kernel, bias = head.kernel, head.bias

    def logits(features, classes):
        weights = tf.transpose(tf.gather(kernel, classes, axis=1))
        return tf.reduce_sum(features * weights, axis=1) + tf.gather(bias, classes)
    feature_maps = [last_feature_maps(network).output] if with_feature_maps else []
    return keras.Model(network.inputs, [*feature_maps, head.input]), logits


def explained(explain, model, images, classes):
    """explain(network, pixels, classes) on the network inside `model`, averaged with its mirror image's map when
    the model flip-averages, each map scaled to a maximum of 1."""
    network, flip_averaged = parts(model)
    pixels, classes = tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(classes, tf.int32)
    maps = explain(network, pixels, classes)
    if flip_averaged:
        maps = (maps + tf.reverse(explain(network, tf.reverse(pixels, [2]), classes), [2])) / 2
    return scaled(np.asarray(maps))


def class_activation_maps(model, images, classes):
    """HiResCAM on the last feature maps (the positive part: evidence for the class), upsampled to 28x28."""
    return explained(cam, model, images, classes)


def cam(network, pixels, classes):
    features, logits = logit_model(network, with_feature_maps=True)
    with tf.GradientTape() as tape:
        feature_maps, head_input = features(pixels, training=False)
        score = logits(head_input, classes)
    maps = tf.nn.relu(tf.reduce_sum(tape.gradient(score, feature_maps) * feature_maps, axis=-1, keepdims=True))
    return tf.image.resize(maps, pixels.shape[1:3], method="bilinear")[..., 0]


def input_saliency(model, images, classes):
    """|d logit(class) / d pixel| (Simonyan et al. 2014)."""
    return explained(gradient, model, images, classes)


def gradient(network, pixels, classes):
    head_input, logits = logit_model(network, with_feature_maps=False)
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        score = logits(head_input(pixels, training=False), classes)
    return tf.abs(tape.gradient(score, pixels))


def scaled(maps):
    """Each map divided by its maximum (an all-zero map stays zero)."""
    peaks = maps.reshape(len(maps), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peaks > 0, maps / np.where(peaks > 0, peaks, 1), 0).astype(np.float32)


def attention_maps(model, images, classes):
    """The map that fits the model: class activation maps when it has convolutions, else input saliency."""
    explain = class_activation_maps if has_feature_maps(model) else input_saliency
    return explain(model, images, classes)
