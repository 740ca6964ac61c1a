"""Why the CNN wins (docs/why.md): the experiments of the stages control, robustness, data_efficiency and explain.

Modules: control (the scrambled-pixel control and its statistics), robustness (perturbed test images and the
accuracy curves over them), data_efficiency (the learning curves' settings and epochs rule), attribution (class
activation maps and input saliency), explanation (which images, filters and units the explain stage draws),
figures (the figures of all four), report (the "Why the CNN wins" section of metrics/compare.md).
Imports point downward: this package uses the study's core (fmnist.data, models, training, ...); the core never
imports it (tests/test_layout.py).
"""
