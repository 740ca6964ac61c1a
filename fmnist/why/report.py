"""The "Why the CNN wins" section of metrics/compare.md, written from the control's summary and the robustness
and data-efficiency metrics alone, with a conclusion that follows the numbers: the claim that the CNN's lead comes
from spatial structure is stated only when the control shows it; otherwise the section says what it does show."""
from fmnist.comparison import confidence_label, percent, points

MODELS = ("ann", "cnn")


def signed_points(value):
    return f"{100 * value:+.2f} points"


def interval(entry):
    return f"{signed_points(entry['ci_low'])} to {signed_points(entry['ci_high'])}"


def spread(entry):
    """'86.70% ± 0.12' : the mean over seeds and the seed-to-seed standard deviation, in points."""
    return f"{percent(entry['mean'])} ± {100 * entry['std']:.2f}"


def claim_supported(control):
    """The control supports the claim when scrambling costs the CNN accuracy beyond its seed-to-seed spread and
    the test set's sampling (a real loss), and the CNN-minus-ANN gap shrinks beyond the test set's sampling."""
    cnn = control["cnn"]
    return bool(cnn["real"]) and cnn["change"]["value"] < 0 and control["gap"]["change"]["ci_high"] < 0


def effect_words(model, entry, what=""):
    real = "a real effect" if entry["real"] else "within what seeds and test sampling explain"
    return (f"the {model.upper()}'s {what}by {signed_points(entry['change']['value'])} "
            f"(p = {entry['seeds_test_p']:.2g} across seeds, {real})")


def control_conclusion(control, level):
    ann, cnn, gap = control["ann"], control["cnn"], control["gap"]
    measured = (f"Scrambling the pixels changes {effect_words('cnn', cnn, 'test accuracy ')} and {effect_words('ann', ann)}; "
                f"the CNN-minus-ANN gap goes from {signed_points(gap['original']['value'])} on the original images to "
                f"{signed_points(gap['scrambled']['value'])} on scrambled ones.")
    if claim_supported(control):
        ann_words = ("while the ANN, which cannot tell the two arms apart, stays within its seed-to-seed spread"
                     if not ann["real"] else
                     f"while the ANN's accuracy moves by {signed_points(ann['change']['value'])}")
        return (f"{measured} **The CNN's lead depends on the pixels' spatial arrangement**: without pixel "
                f"neighbourhoods its convolutions lose their advantage, {ann_words}.")
    reasons = []
    if not (cnn["real"] and cnn["change"]["value"] < 0):
        reasons.append("the CNN does not lose accuracy beyond its seed-to-seed spread and the test set's sampling")
    if gap["change"]["ci_high"] >= 0:
        reasons.append("the gap does not shrink beyond the test set's sampling")
    return (f"{measured} **These numbers do not show that the CNN's lead comes from spatial structure**: "
            f"{' and '.join(reasons)}.")


def control_table(control, control_metrics, confidence):
    lines = [f"| model | original | scrambled | change | {confidence_label(confidence)} interval "
             "| p across seeds (Welch) | McNemar p per seed | validation: original, scrambled |",
             "|---|---|---|---|---|---|---|---|"]
    for model in MODELS:
        entry, validation = control[model], control_metrics[model]
        lines.append(
            f"| {model.upper()} | {spread(entry['original'])} | {spread(entry['scrambled'])} "
            f"| {signed_points(entry['change']['value'])} | {interval(entry['change'])} | {entry['seeds_test_p']:.2g} "
            f"| {', '.join(f'{p:.2g}' for p in entry['mcnemar_p_per_seed'])} "
            f"| {percent(validation['original']['validation']['mean'])}, "
            f"{percent(validation['scrambled']['validation']['mean'])} |")
    gap = control["gap"]
    lines.append(f"| gap (CNN - ANN) | {signed_points(gap['original']['value'])} "
                 f"| {signed_points(gap['scrambled']['value'])} | {signed_points(gap['change']['value'])} "
                 f"| {interval(gap['change'])} | | | |")
    return lines


def robustness_lines(robustness):
    shifts = [level for level in robustness[MODELS[0]]["shift"] if level != "0"]
    rotations = sorted({level.lstrip("-") for level in robustness[MODELS[0]]["rotation"] if level != "0"}, key=float)
    noise = [level for level in robustness[MODELS[0]]["noise"] if level != "0"]
    header = (["unchanged"] + [f"shift {s} px" for s in shifts] + [f"rotation ±{r}°" for r in rotations]
              + [f"noise {n}" for n in noise])
    lines = ["| model | " + " | ".join(header) + " |", "|---|" + "---:|" * len(header)]
    for model in MODELS:
        curves = robustness[model]
        rotation = [(curves["rotation"][f"-{r}"] + curves["rotation"][r]) / 2 for r in rotations]
        values = [curves["shift"]["0"]] + [curves["shift"][s] for s in shifts] + rotation + [curves["noise"][n] for n in noise]
        lines.append(f"| {model.upper()} | " + " | ".join(percent(v) for v in values) + " |")
    changes = {
        f"Shifting the test images by {shifts[-1]} pixels": {
            model: robustness[model]["shift"][shifts[-1]] - robustness[model]["shift"]["0"] for model in MODELS},
        f"Rotating them by ±{rotations[-1]}°": {
            model: (robustness[model]["rotation"][f"-{rotations[-1]}"] + robustness[model]["rotation"][rotations[-1]]) / 2
            - robustness[model]["rotation"]["0"] for model in MODELS},
        f"Noise of {noise[-1]}": {
            model: robustness[model]["noise"][noise[-1]] - robustness[model]["noise"]["0"] for model in MODELS},
    }
    lines.append("")
    for what, change in changes.items():
        lines.append(f"{what} changes the CNN's accuracy by {signed_points(change['cnn'])} and the ANN's by "
                     f"{signed_points(change['ann'])}: {less_lost(change)}.")
    lines += ["", "Neither model was trained with shifts, rotations or noise; a Flatten-and-Dense head gives every "
              "position its own weights, so the CNN's tolerance to shifts is partial. These are the measured numbers."]
    return lines


def less_lost(change):
    if change["cnn"] == change["ann"]:
        return "both lose the same"
    return f"the {'CNN' if change['cnn'] > change['ann'] else 'ANN'} loses less"


def data_efficiency_lines(data_efficiency):
    sizes = sorted(data_efficiency[MODELS[0]], key=int)
    lines = ["| training images | " + " | ".join(f"{m.upper()} (epochs)" for m in MODELS) + " | CNN - ANN |",
             "|---:|" + "---:|" * (len(MODELS) + 1)]
    gaps = {}
    for size in sizes:
        entries = {model: data_efficiency[model][size] for model in MODELS}
        gaps[size] = entries["cnn"]["test_accuracy"] - entries["ann"]["test_accuracy"]
        lines.append(f"| {int(size):,} | " + " | ".join(
            f"{percent(entries[m]['test_accuracy'])} ({entries[m]['epochs']})" for m in MODELS)
            + f" | {signed_points(gaps[size])} |")
    lines += ["", f"CNN minus ANN: {signed_points(gaps[sizes[0]])} with {int(sizes[0]):,} training images, "
              f"{signed_points(gaps[sizes[-1]])} with {int(sizes[-1]):,}."]
    return lines


def why_section(control, control_metrics, robustness, data_efficiency, confidence, level, figures):
    """Markdown: the control's table and conclusion, the robustness and data-efficiency points, the figures; the
    metrics as fmnist.why.results.why_metrics reads them, {model: ...} each."""
    epochs = ", ".join(f"{model.upper()} {control_metrics[model]['epochs']}" for model in MODELS)
    lines = [
        "## Why the CNN wins", "",
        "### The control: scrambled pixels", "",
        f"Each model trained on {control_metrics[MODELS[0]]['train_images']:,} training images (epochs: {epochs}; spatial "
        f"augmentations off), once per seed ({control['seeds']} seeds) on the original images and once on the same "
        "images with their 784 pixel positions scrambled by one fixed permutation (the same for every split). "
        "Test accuracy, mean ± seed-to-seed standard deviation in points; change = scrambled - original. The "
        f"interval resamples the test images (pooled over seeds); the p across seeds weighs the seed-to-seed "
        f"spread, and an effect is called real when that p is below {level} and the interval excludes 0.", "",
        *control_table(control, control_metrics, confidence), "",
        control_conclusion(control, level), "",
        "### Robustness of the trained models", "",
        *robustness_lines(robustness), "",
        "### Data efficiency", "",
        "Each model trained on stratified subsets of the training split and tested on the full test set; a smaller "
        "subset trains for more epochs (the same number of images seen as the largest, up to a cap).", "",
        *data_efficiency_lines(data_efficiency), "",
        "### Figures", "",
    ]
    lines += [f"- [{title}]({path})" for title, path in figures.items()]
    return "\n".join(lines) + "\n"
