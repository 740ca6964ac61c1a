"""Passages of the committed run's results: the headline table, the CNN's gain, per-class F1, the control, the
robustness and learning-curve points. Each returns Markdown, formatted by the helpers the compare stage's report
uses, so a number reads the same in metrics/compare.md and on the pages."""
from fmnist.comparison import confidence_label, percent, points
from fmnist.data import CLASS_NAMES
from fmnist.docs.committed import bench, comparison, lock, model_metrics, training_log, why_metrics
from fmnist.why.report import (MODELS, control_conclusion, control_table, data_efficiency_lines, interval,
                               robustness_lines, signed_points)


def trained_params(model):
    """The model's section of params.yaml as the committed run trained it (dvc.lock)."""
    return lock()["stages"][f"train_{model}"]["params"]["params.yaml"][model]


def architecture(model):
    """'ANN, dense 512-256' or 'CNN, conv 32-64-128, dense 512', from the committed run's params."""
    params = trained_params(model)
    if model == "ann":
        return "ANN, dense " + "-".join(map(str, params["hidden_units"]))
    dense = f", dense {params['dense_units']}" if params["dense_units"] else ""
    return "CNN, conv " + "-".join(map(str, params["filters"])) + dense


def with_interval(entry):
    return f"{percent(entry['value'])} ({percent(entry['ci_low'])} to {percent(entry['ci_high'])})"


def headline_table():
    """Both models side by side: accuracy and macro F1 with their intervals, top-2 accuracy, calibration error,
    the training's last validation accuracy and its epochs."""
    summary, metrics = comparison(), {model: model_metrics(model) for model in MODELS}
    label = confidence_label(summary["confidence"])
    rows = [(f"test accuracy ({label} bootstrap interval)", lambda m: with_interval(summary[f"{m}_accuracy"])),
            (f"macro F1 ({label} bootstrap interval)", lambda m: with_interval(summary[f"{m}_macro_f1"])),
            ("top-2 accuracy", lambda m: percent(metrics[m]["top2_accuracy"])),
            ("expected calibration error", lambda m: f"{metrics[m]['expected_calibration_error']:.3f}"),
            ("validation accuracy, last epoch (no flip)", lambda m: percent(training_log(m)["eval"]["accuracy"])),
            ("epochs trained", lambda m: str(trained_params(m)["epochs"]))]
    lines = ["| | " + " | ".join(architecture(model) for model in MODELS) + " |", "|---|" + "---:|" * len(MODELS)]
    lines += [f"| {name} | " + " | ".join(cell(model) for model in MODELS) + " |" for name, cell in rows]
    return "\n".join(lines)


def largest_gains(count):
    gains = sorted(comparison()["per_class_f1_gain"].items(), key=lambda item: item[1], reverse=True)
    return ", ".join(f"{name} ({gain:+.3f})" for name, gain in gains[:count])


def hardest_class():
    """The class with the lowest F1 summed over both models, and each model's F1 on it."""
    f1 = {model: {name: model_metrics(model)["per_class"][name]["f1"] for name in CLASS_NAMES} for model in MODELS}
    name = min(CLASS_NAMES, key=lambda name: sum(f1[model][name] for model in MODELS))
    return name, [f1[model][name] for model in MODELS]


def gain_paragraph():
    """Who wins, by how much, how surely (McNemar), and where (per-class F1)."""
    summary = comparison()
    gain, test = summary["accuracy_gain"], summary["mcnemar"]
    verdict = "significant" if test["significant"] else "not significant"
    name, (ann_f1, cnn_f1) = hardest_class()
    return (f"The CNN's gain, {points(gain['value'])} ({confidence_label(summary['confidence'])} bootstrap interval "
            f"{points(gain['ci_low'])} to {points(gain['ci_high'])}), is {verdict} at the "
            f"{summary['significance_level']} level: {test['cnn_only_correct']} test images only the CNN got right "
            f"against {test['ann_only_correct']} only the ANN got right (exact McNemar p = {test['p_value']:.2g}). "
            f"It gains most F1 on {largest_gains(5)}; {name} stays the hardest class for both "
            f"(F1 {ann_f1:.3f} and {cnn_f1:.3f}).")


def per_class_table():
    """Each class's F1 and recall for both models and the CNN's F1 gain."""
    metrics, gains = {model: model_metrics(model) for model in MODELS}, comparison()["per_class_f1_gain"]
    lines = ["| class | ANN F1 | CNN F1 | CNN gain | ANN recall | CNN recall |", "|---|---:|---:|---:|---:|---:|"]
    for name in CLASS_NAMES:
        f1 = [f"{metrics[model]['per_class'][name]['f1']:.3f}" for model in MODELS]
        recall = [f"{metrics[model]['per_class'][name]['recall']:.3f}" for model in MODELS]
        lines.append(f"| {name} | {' | '.join(f1)} | {gains[name]:+.3f} | {' | '.join(recall)} |")
    return "\n".join(lines)


def calibration_sentence():
    metrics = {model: model_metrics(model) for model in MODELS}
    return ("Log loss " + " and ".join(f"{metrics[m]['log_loss']:.3f}" for m in MODELS) + ", expected calibration "
            "error " + " and ".join(f"{metrics[m]['expected_calibration_error']:.3f}" for m in MODELS) + " (ANN, CNN).")


def control_setup():
    control = why_metrics("control")
    epochs = " and ".join(f"the {model.upper()} {control[model]['epochs']}" for model in MODELS)
    return (f"{control[MODELS[0]]['train_images']:,} training images, {len(control[MODELS[0]]['seeds'])} seeds per arm, "
            f"epochs: {epochs}")


def control_summary_table():
    """The control in brief: each model's mean test accuracy on original and scrambled pixels, the change with its
    interval and Welch's p across seeds, and the CNN-minus-ANN gap."""
    summary = comparison()
    control, label = summary["control"], confidence_label(summary["confidence"])
    lines = [f"| test accuracy, mean of {control['seeds']} seeds | original pixels | scrambled pixels "
             f"| change ({label} interval) | p across seeds |", "|---|---:|---:|---:|---:|"]
    for model in MODELS:
        entry = control[model]
        lines.append(f"| {model.upper()} | {percent(entry['original']['mean'])} | {percent(entry['scrambled']['mean'])} "
                     f"| {signed_points(entry['change']['value'])} ({interval(entry['change'])}) "
                     f"| {entry['seeds_test_p']:.2g} |")
    gap = control["gap"]
    lines.append(f"| CNN minus ANN | {signed_points(gap['original']['value'])} "
                 f"| {signed_points(gap['scrambled']['value'])} | | |")
    return "\n".join(lines)


def control_full_table():
    """The compare stage's own table of the control (metrics/compare.md), with seed spreads and McNemar per seed."""
    summary = comparison()
    return "\n".join(control_table(summary["control"], why_metrics("control"), summary["confidence"]))


def robustness_table():
    return "\n".join(robustness_lines(why_metrics("robustness")))


def data_efficiency_table():
    return "\n".join(data_efficiency_lines(why_metrics("data_efficiency")))


def mean_rotation(curves, degrees):
    return (curves["rotation"][f"-{degrees}"] + curves["rotation"][degrees]) / 2


def robustness_sentence():
    """The largest shift, rotation and noise level of the committed run, both models' accuracy there."""
    curves = why_metrics("robustness")
    shift, noise = max(curves["ann"]["shift"], key=float), max(curves["ann"]["noise"], key=float)
    degrees = max(curves["ann"]["rotation"], key=float)
    at = {model: (curves[model]["shift"][shift], mean_rotation(curves[model], degrees), curves[model]["noise"][noise])
          for model in MODELS}
    (ann_shift, ann_turn, ann_noise), (cnn_shift, cnn_turn, cnn_noise) = at["ann"], at["cnn"]
    less = "CNN" if cnn_noise > ann_noise else "ANN"
    return (f"The trained models on moved test images: shifted {shift} pixels the ANN keeps {percent(ann_shift)} and "
            f"the CNN {percent(cnn_shift)}; rotated ±{degrees}° {percent(ann_turn)} and {percent(cnn_turn)}. With "
            f"Gaussian noise of {noise} × 255 the ANN keeps {percent(ann_noise)} and the CNN {percent(cnn_noise)}: "
            f"there the {less} holds up better.")


def learning_curve_sentence():
    curves = why_metrics("data_efficiency")
    sizes = sorted(curves["ann"], key=int)
    parts = [f"{int(size):,} images {points(curves['cnn'][size]['test_accuracy'] - curves['ann'][size]['test_accuracy'])}"
             f" ({percent(curves['ann'][size]['test_accuracy'])} and {percent(curves['cnn'][size]['test_accuracy'])})"
             for size in sizes]
    return "The CNN's lead over the ANN with fewer training images: " + "; ".join(parts) + "."


def control_verdict():
    """The compare stage's own conclusion of the control, which states the claim only when the numbers carry it."""
    summary = comparison()
    return control_conclusion(summary["control"], summary["significance_level"])


def control_budget_table():
    """bench/control_budget.json: validation accuracy of each model and arm after each epoch count tried, and the
    CNN's cost of scrambling at each."""
    runs = bench("control_budget")["runs"]
    accuracy = {(run["model"], run["arm"], run["epochs"]): run["validation_accuracy"] for run in runs}
    lines = ["| model | arm | validation accuracy after |  |  |", "|---|---|---:|---:|---:|"]
    for model in MODELS:
        epochs = sorted({run["epochs"] for run in runs if run["model"] == model})
        for arm in ("original", "scrambled"):
            cells = [f"{count}{' epochs' if index == 0 else ''}: {percent(accuracy[(model, arm, count)])}"
                     for index, count in enumerate(epochs)]
            lines.append(f"| {model.upper()} | {arm} | " + " | ".join(cells) + " |")
    cnn_epochs = sorted({run["epochs"] for run in runs if run["model"] == "cnn"})
    costs = ", ".join(f"{points(accuracy[('cnn', 'original', count)] - accuracy[('cnn', 'scrambled', count)])} at "
                      f"{count} epochs" for count in cnn_epochs)
    return "\n".join(lines + ["", f"The CNN's cost of scrambling on the validation split: {costs}."])


def seed_runs():
    """bench/seeds.json's runs as {(model, setting): [run, ...]} in the order they ran."""
    runs = {}
    for run in bench("seeds")["runs"]:
        runs.setdefault((run["model"], run["setting"]), []).append(run)
    return runs


def seeds_table():
    """Each model and setting over its training seeds: test accuracy per seed and the mean, validation accuracy."""
    runs = seed_runs()
    seeds = sorted({run["seed"] for group in runs.values() for run in group}, key=lambda seed: (seed != 42, seed))
    lines = ["| model, setting | " + " | ".join(f"test, seed {seed}" for seed in seeds) + " | **test, mean** "
             "| validation, mean | epochs |", "|---|" + "---:|" * (len(seeds) + 3)]
    for (model, setting), group in runs.items():
        by_seed = {run["seed"]: run for run in group}
        test = [run["test_accuracy"] for run in group]
        epochs = group[0]["changes"].get("epochs") or trained_params(model)["epochs"]
        lines.append(f"| {model.upper()}, {setting} | " + " | ".join(
            percent(by_seed[seed]["test_accuracy"]) if seed in by_seed else "-" for seed in seeds)
            + f" | **{percent(sum(test) / len(test))}** "
            f"| {percent(sum(run['validation_accuracy'] for run in group) / len(group))} | {epochs} |")
    return "\n".join(lines)


def mcnemar_sentence():
    """The exact McNemar tests between settings on the same test images (bench/seeds.py --mcnemar)."""
    sentences = []
    for test in bench("seeds")["mcnemar"]:
        sentences.append(
            f"{test['first']} against {test['second']} ({test['model'].upper()}, seed {test['seed']}): "
            f"{test['only_first_correct']} test images only the first got right, {test['only_second_correct']} only "
            f"the second, exact McNemar p = {test['p_value']:.2g}.")
    return " ".join(sentences)
