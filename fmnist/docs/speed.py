"""Passages of how fast bin/predict and bin/serve answer: bench/predict_results.json, bench/serve_results*.json."""
from fmnist.comparison import percent
from fmnist.docs.committed import ROOT, bench
from fmnist.docs.costs import machine_label, of_the_committed_models
from fmnist.params import PARAMS_FILE, ServeParams, load_params
from fmnist.why.report import MODELS

SERVE_RUNS = ("serve_results", "serve_results_perturbed")


def predict_speed():
    """bench/predict.py's table, and whether it measured the committed models."""
    result = bench("predict_results")
    models = result["models"]
    measured = {model: models[model]["end_to_end"]["accuracy"] for model in MODELS}
    whose = ("the committed models" if of_the_committed_models(measured) else
             "**earlier models**, not the committed run's (test accuracy " +
             ", ".join(f"{model.upper()} {percent(measured[model])}" for model in MODELS) +
             "; `bench/predict.py` remeasures them)")
    rows = [("model load", lambda m: f"{models[m]['load_s']:.2f} s"),
            ("one image (after load)", lambda m: f"{models[m]['single_image_ms']:.0f} ms"),
            (f"throughput, batches of {models['cnn']['throughput_batch_size']} in memory",
             lambda m: f"{models[m]['throughput_images_per_s']:,} images/s"),
            (f"{models['cnn']['end_to_end']['files']:,} PNG files end to end (`bin/predict` on a folder, TensorFlow "
             "start-up included)", lambda m: f"{models[m]['end_to_end']['seconds']} s")]
    lines = [f"Measured {result['date']} on the {machine_label(result)}, with {whose}:", "",
             "| | ANN | CNN |", "|---|---:|---:|"]
    lines += [f"| {name} | " + " | ".join(cell(model) for model in MODELS) + " |" for name, cell in rows]
    return "\n".join(lines)


def serve_rows(result, label):
    rows = []
    for name, load in result["load"].items():
        rows.append(f"| {load['images_per_request']} image{'s' if load['images_per_request'] > 1 else ''} per request"
                    f"{label} | {load['requests']:,} | {load['failures']} | {load['requests_per_s']:.0f} "
                    f"| {load['images_per_s']:,.0f} | {load['p50_ms']:,.0f} / {load['p95_ms']:,.0f} / {load['p99_ms']:,.0f} "
                    f"| {load['images_per_model_call']:.1f} | {load['served_to_in_memory']:.2f} |")
    return rows


def serve_table():
    """bench/serve_load.py's two runs, plain and with random lab settings, and the in-memory rate beside them."""
    plain, perturbed = (bench(name) for name in SERVE_RUNS)
    parameters, machine = plain["parameters"], plain["machine"]
    lines = [f"| {parameters['users']} clients, {parameters['duration_s']} s | requests | failed | requests/s | images/s "
             "| p50 / p95 / p99 (ms) | images per model call | served / in-memory |",
             "|---|---:|---:|---:|---:|---|---:|---:|"]
    lines += serve_rows(plain, "") + serve_rows(perturbed, ", lab settings")
    lines.append(f"| in memory, `model.predict` | | | | {plain['in_memory']['throughput_images_per_s']:,} | "
                 f"| {plain['in_memory']['throughput_batch_size']} | 1 |")
    lines += ["", f"{plain['timestamp'][:10]}, {machine_label({'machine': machine})}, the two runs one after the "
              "other (`bench/serve_results.json`, `bench/serve_results_perturbed.json`)."]
    return "\n".join(lines)


def serve_memory():
    """The server's peak memory in each phase, without and with lab settings."""
    plain, perturbed = (bench(name)["server"]["peak_rss_mib"] for name in SERVE_RUNS)
    return ", ".join(f"{phase} {plain[phase]} / {perturbed[phase]}" for phase in plain if phase in perturbed) + " MiB"


def serve_cores():
    """How much CPU the server and the load generator used across the serve runs."""
    loads = [load for name in SERVE_RUNS for load in bench(name)["load"].values()]
    server, locust = [load["server_cores"] for load in loads], [load["locust_cores"] for load in loads]
    return (f"The server used {min(server):.1f} to {max(server):.1f} cores' worth of CPU, Locust {min(locust):.1f} "
            f"to {max(locust):.1f}.")


def serve_rates():
    """What the serve table says: how full the batched model calls ran, and what the lab's settings cost."""
    plain, perturbed = (bench(name) for name in SERVE_RUNS)
    single, batched = plain["load"]["single"], plain["load"]["batch16"]
    limit = load_params("serve", ServeParams, ROOT / PARAMS_FILE).max_batch_images
    cost = {name: 1 - perturbed["load"][name]["images_per_s"] / load["images_per_s"]
            for name, load in plain["load"].items()}
    return (f"With {batched['images_per_request']} images a request the model calls averaged "
            f"{batched['images_per_model_call']:.0f} images (`serve.max_batch_images` is {limit}) and the server "
            f"reached {batched['served_to_in_memory']:.0%} of the in-memory rate, against "
            f"{single['served_to_in_memory']:.0%} with one image a request. The lab's settings cost "
            f"{cost['single']:.0%} of the single-image rate and {cost['batch16']:.0%} of the batched one:")
