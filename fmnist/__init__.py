"""Reusable pieces of the Fashion-MNIST ANN-vs-CNN study; the stages in stages/ wire them together."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of stage logs
