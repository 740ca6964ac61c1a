"""Figures: one function each, taking data and returning a matplotlib Figure; stages choose the path."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fmnist.data import CLASS_NAMES  # noqa: E402


def sample_grid(images, labels, per_class):
    """The first `per_class` images of each class, one row per class, labelled."""
    figure, axes = plt.subplots(len(CLASS_NAMES), per_class, figsize=(per_class * 0.9, len(CLASS_NAMES) * 0.95),
                                squeeze=False)
    for label, row in enumerate(axes):
        picks = np.flatnonzero(labels == label)[:per_class]
        for column, axis in enumerate(row):
            axis.axis("off")
            if column < len(picks):
                axis.imshow(images[picks[column]], cmap="gray_r", vmin=0, vmax=255)
        row[0].set_title(CLASS_NAMES[label], fontsize=8, loc="left")
    figure.suptitle("Fashion-MNIST training images, by class")
    figure.tight_layout()
    return figure


def confusion_heatmap(counts, title):
    """Counts with class names on both axes; the diagonal also shows each class's recall."""
    recall = np.diag(counts) / np.maximum(counts.sum(axis=1), 1)
    figure, axis = plt.subplots(figsize=(8.5, 7.5))
    image = axis.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axis, fraction=0.046, label="test images")
    ticks = np.arange(len(CLASS_NAMES))
    axis.set_xticks(ticks, CLASS_NAMES, rotation=45, ha="right")
    axis.set_yticks(ticks, CLASS_NAMES)
    axis.set_xlabel("predicted")
    axis.set_ylabel("actual")
    threshold = counts.max() / 2
    for (row, column), count in np.ndenumerate(counts):
        text = f"{count}\n{recall[row]:.0%}" if row == column else str(count)
        axis.text(column, row, text, ha="center", va="center", fontsize=7,
                  color="white" if count > threshold else "black")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def misclassified_gallery(images, examples, title):
    """One row per (actual, predicted) pair: images with true label, prediction and confidence."""
    if not examples:
        figure, axis = plt.subplots(figsize=(4, 1.5))
        axis.axis("off")
        axis.text(0.5, 0.5, "no misclassified test images", ha="center", va="center")
        axis.set_title(title)
        return figure
    columns = max(len(row["indices"]) for row in examples)
    figure, axes = plt.subplots(len(examples), columns, figsize=(columns * 1.5, len(examples) * 2.2), squeeze=False)
    for row, axis_row in zip(examples, axes):
        for axis in axis_row:
            axis.axis("off")
        for axis, index, confidence in zip(axis_row, row["indices"], row["confidences"]):
            axis.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
            axis.set_title(f"true {row['actual']}\npred {row['predicted']}\n{confidence:.0%}", fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def reliability_diagram(bins, title):
    """Accuracy against mean confidence per confidence bin, with the diagonal of perfect calibration."""
    figure, axis = plt.subplots(figsize=(5.5, 5))
    confidence = [row["confidence"] for row in bins]
    accuracy = [row["accuracy"] for row in bins]
    width = [row["upper"] - row["lower"] for row in bins]
    axis.bar([row["lower"] for row in bins], accuracy, width=width, align="edge", edgecolor="black",
             alpha=0.7, label="accuracy in bin")
    axis.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    axis.plot(confidence, accuracy, "o", color="tab:red", label="mean confidence")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("confidence (top-class probability)")
    axis.set_ylabel("accuracy")
    axis.legend(loc="upper left")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def per_class_f1_bars(f1_by_model):
    """Grouped bars of each model's F1 per class, from {model: {class name: F1}}."""
    figure, axis = plt.subplots(figsize=(10, 4.5))
    ticks = np.arange(len(CLASS_NAMES))
    width = 0.8 / len(f1_by_model)
    for offset, (model, scores) in enumerate(f1_by_model.items()):
        values = [scores[name] for name in CLASS_NAMES]
        axis.bar(ticks + offset * width - 0.4 + width / 2, values, width=width, label=model.upper())
    axis.set_xticks(ticks, CLASS_NAMES, rotation=30, ha="right")
    axis.set_ylabel("F1 on the test set")
    axis.set_ylim(min(min(s.values()) for s in f1_by_model.values()) - 0.05, 1.0)
    axis.legend()
    axis.set_title("Per-class F1, ANN vs CNN")
    figure.tight_layout()
    return figure


def pareto_front(points, title):
    """Validation accuracy against training seconds, from {"trials", "front", "default"} lists of search trials:
    every finished trial, the Pareto front joined and numbered, params.yaml's values starred."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    every, default = points["trials"], points["default"]
    front = sorted(points["front"], key=lambda row: row["seconds"])
    axis.scatter([r["seconds"] for r in every], [r["validation_accuracy"] for r in every], s=18, color="0.6",
                 label="trial")
    axis.step([r["seconds"] for r in front], [r["validation_accuracy"] for r in front], where="post",
              color="tab:blue", marker="o", label="Pareto front")
    for row in front:
        axis.annotate(f"#{row['trial']}", (row["seconds"], row["validation_accuracy"]), textcoords="offset points",
                      xytext=(4, -10), fontsize=8)
    if default:
        axis.scatter([r["seconds"] for r in default], [r["validation_accuracy"] for r in default], marker="*",
                     s=160, color="tab:red", zorder=3, label="params.yaml's values")
    axis.set_xlabel("training seconds")
    axis.set_ylabel("validation accuracy")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="best")
    return figure
