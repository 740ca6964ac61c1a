"""Benchmark of bin/serve under load: throughput and latency of /api/predict?model=cnn with Locust (concurrent users
posting one test image per request, then 16; with --perturb, each request with random lab settings), set against
model.predict from memory (bench/predict.py's inference); images per model call (the micro-batching); then malformed
requests of a dozen kinds interleaved with good ones (no 5xx, no wrong answer, server still up); the server's peak
memory in each phase and its exit status on SIGTERM.

Run from the project root after the pipeline (models/*.keras, data/prepared/test.npz):
    .venv/bin/python bench/serve_load.py [--duration 60] [--users 50] [--malformed 1000] [--perturb]
Writes bench/serve_results.json (with --perturb: bench/serve_results_perturbed.json); exits 1 when a check fails
(a failed request, a 5xx, a wrong answer, a bad exit).
"""
import argparse
import collections
import datetime
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests
from urllib3 import encode_multipart_formdata

from fmnist.atomic import write_json
from fmnist.data import load_split
from fmnist.paths import prepared_split
from fmnist.prediction import evaluate_batch_size
from fmnist.serving.study import png_bytes
from predict import inference  # bench/predict.py, beside this file
from run import children_cpu_seconds, machine, tree_rss  # bench/run.py

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "serve_results.json"
PERTURBED_RESULTS = ROOT / "bench" / "serve_results_perturbed.json"  # --perturb's run, kept beside the plain one
SERVE = ROOT / "bin" / "serve"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
LOCUST = Path(sys.executable).with_name("locust")
MODEL = "cnn"
BATCH_IMAGES = 16
RSS_INTERVAL_S = 0.2
READY_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
GOOD_IMAGES = 50        # distinct test images the malformed phase's good requests cycle through
BAD_PER_GOOD = 4
WORKERS = 16
HUGE_BODIES, HUGE_BODY_MB = 3, 100
SLOW_CLIENTS, SLOW_CLIENT_S, SLOW_BYTE_S = 20, 5, 0.5
BOMB_SIDE = 20_000
MAY_CLOSE = {"100 KB header", "100 MB body"}  # kinds where the server may close the connection instead of answering


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """bin/serve on a free port, its output in a log file, its memory (with children) sampled for each phase's peak."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen([str(SERVE), "--port", str(self.port)], cwd=ROOT, stdout=log,
                                            stderr=subprocess.STDOUT)
        self.watched = psutil.Process(self.process.pid)
        self.phase, self.peak_mib = "startup", {}
        self.sampler = threading.Thread(target=self.sample_memory, daemon=True)
        self.sampler.start()

    def sample_memory(self):
        while self.process.poll() is None:
            try:
                rss = tree_rss(self.watched) / 2**20
            except psutil.Error:  # it exited between the poll and the sample
                return
            self.peak_mib[self.phase] = max(self.peak_mib.get(self.phase, 0), round(rss))
            time.sleep(RSS_INTERVAL_S)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self):
        """Seconds until /api/health answers; exits with the server's log if it dies or never answers."""
        start = time.perf_counter()
        while time.perf_counter() - start < READY_TIMEOUT_S:
            if self.process.poll() is not None:
                sys.exit(f"bench: bin/serve exited with status {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/api/health", timeout=5).ok:
                    return round(time.perf_counter() - start, 1)
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        self.process.kill()
        sys.exit(f"bench: bin/serve did not answer within {READY_TIMEOUT_S} s:\n{self.log()}")

    def cpu_seconds(self):
        """User and system CPU time of the server and its children so far."""
        return sum(sum(member.cpu_times()[:2]) for member in [self.watched, *self.watched.children(recursive=True)])

    def model_calls(self):
        response = requests.get(f"{self.url}/api/health", timeout=REQUEST_TIMEOUT_S)
        response.raise_for_status()
        return response.json()["models"][MODEL]["model_calls"]

    def stop(self):
        """SIGTERM, then the exit status (None if it had to be killed)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
        finally:
            self.sampler.join()


def percentile_ms(response_times, fraction):
    """The smallest of Locust's (rounded) response times that `fraction` of the requests did not exceed."""
    total, seen = sum(response_times.values()), 0
    for milliseconds, count in sorted((float(ms), count) for ms, count in response_times.items()):
        seen += count
        if seen >= fraction * total:
            return milliseconds


def locust_stats(path):
    """The one request entry of Locust's --json-file (written at exit; its CSV files can lag the end by a second):
    counts, rates as Locust computes them, latency percentiles; None when it recorded no request."""
    entries = json.loads(path.read_text()) if path.exists() else []
    if not entries:
        return None
    entry = entries[0]
    seconds = entry["last_request_timestamp"] - entry["start_time"]
    return {"requests": entry["num_requests"], "failures": entry["num_failures"],
            "requests_per_s": round(entry["num_requests"] / seconds, 1),
            "good_requests_per_s": (entry["num_requests"] - entry["num_failures"]) / seconds,
            **{f"p{p}_ms": percentile_ms(entry["response_times"], p / 100) for p in (50, 95, 99)}}


def load_phase(server, images_per_request, args, temp):
    """Locust against /api/predict for args.duration seconds: counts, rates, latency percentiles, images per model
    call, and the cores' worth of CPU the server and Locust each used (CPU time over wall time)."""
    server.phase = f"load x{images_per_request}"
    stats_path, log_path = temp / f"locust-x{images_per_request}", temp / f"locust-x{images_per_request}.log"
    command = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-u", str(args.users), "-r", str(args.users),
               "-t", f"{args.duration}s", "--stop-timeout", str(REQUEST_TIMEOUT_S), "--host", server.url,
               "--json-file", str(stats_path), "--only-summary"]  # Locust adds .json
    calls_before, server_cpu, locust_cpu, start = (server.model_calls(), server.cpu_seconds(), children_cpu_seconds(),
                                                   time.perf_counter())
    with open(log_path, "w") as log:
        status = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "FMNIST_BENCH_IMAGES": str(images_per_request),
                                     "FMNIST_BENCH_PERTURB": str(int(args.perturb))}).returncode
    seconds = time.perf_counter() - start
    calls = server.model_calls() - calls_before
    stats = locust_stats(stats_path.with_suffix(".json"))
    if stats is None:
        sys.exit(f"bench: locust recorded no request (exit status {status}); its log:\n{log_path.read_text()}")
    if status or stats["failures"]:
        print(f"bench: locust exited with status {status}, {stats['failures']} failures; its log:\n"
              f"{log_path.read_text()}", file=sys.stderr)
    good_per_s = stats.pop("good_requests_per_s")
    return {"images_per_request": images_per_request, "locust_exit_status": status, **stats,
            "images_per_s": round(good_per_s * images_per_request, 1), "model_calls": calls,
            "images_per_model_call": round(stats["requests"] * images_per_request / calls, 1) if calls else None,
            "server_cores": round((server.cpu_seconds() - server_cpu) / seconds, 2),
            "locust_cores": round((children_cpu_seconds() - locust_cpu) / seconds, 2)}


def post(url, **kwargs):
    return requests.post(f"{url}/api/predict?model={MODEL}", timeout=REQUEST_TIMEOUT_S, **kwargs)


def png_header(width, height):
    """A PNG that declares width x height and holds no pixel data (as tests/test_predict.py builds it)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IEND", b"")


def huge_body():
    block = bytes(2**20)
    for _ in range(HUGE_BODY_MB):
        yield block


def bad_requests(png):
    """{kind: send(url) -> response}, each a request the server must refuse with a 4xx (but see CHECKS)."""
    image = [("files", ("good.png", png, "image/png"))]
    body, content_type = encode_multipart_formdata(image)
    return {
        "random bytes as a file": lambda url: post(url, files=[("files", ("noise.png", os.urandom(2048)))]),
        "random multipart body": lambda url: post(url, data=os.urandom(4096),
                                                  headers={"Content-Type": "multipart/form-data; boundary=b0undary"}),
        "wrong boundary": lambda url: post(url, data=body,
                                           headers={"Content-Type": "multipart/form-data; boundary=not-the-one"}),
        "truncated multipart": lambda url: post(url, data=body[:len(body) // 2],
                                                headers={"Content-Type": content_type}),
        "100 KB header": lambda url: post(url, files=image, headers={"X-Padding": "x" * 100_000}),
        "100 MB body": lambda url: post(url, data=huge_body(),
                                        headers={"Content-Type": "multipart/form-data; boundary=b0undary"}),
        "wrong method": lambda url: requests.put(f"{url}/api/predict", files=image, timeout=REQUEST_TIMEOUT_S),
        "wrong field": lambda url: post(url, files=[("image", ("good.png", png, "image/png"))]),
        "40 files": lambda url: post(url, files=image * 40),
        "truncated PNG": lambda url: post(url, files=[("files", ("cut.png", png[:len(png) // 2], "image/png"))]),
        "decompression bomb PNG": lambda url: post(
            url, files=[("files", ("bomb.png", png_header(BOMB_SIDE, BOMB_SIDE), "image/png"))]),
        "empty file": lambda url: post(url, files=[("files", ("empty.png", b"", "image/png"))]),
    }


def post_image(url, png):
    return post(url, files=[("files", ("good.png", png, "image/png"))])


def expected_class(url, png):
    """The class the server gives one image (asked while it is idle)."""
    response = post_image(url, png)
    response.raise_for_status()
    return response.json()["results"][0]["class"]


def good_request(png, expected):
    """(send, check): one test image, right when the answer is a 200 with the `expected` class."""
    def check(response):
        return response.status_code == 200 and response.json()["results"][0]["class"] == expected
    return lambda url: post_image(url, png), check


def is_refusal(response):
    return 400 <= response.status_code < 500


def refused_or_classified(response):
    """A request that is only odd, not wrong, may also be served (uvicorn takes a 100 KB head that arrives whole)."""
    return is_refusal(response) or (response.status_code == 200 and response.json()["classified"] == 1)


CHECKS = {"100 KB header": refused_or_classified}  # the others: is_refusal


def attempt(url, kind, send, check):
    """(kind, status code or exception name, whether that outcome is right, the error message if any)."""
    try:
        response = send(url)
    except requests.RequestException as error:
        return kind, type(error).__name__, kind in MAY_CLOSE, None
    try:
        message = response.json().get("error")
    except ValueError:
        message = response.text[:200]
    try:
        right = check(response)
    except (ValueError, LookupError):  # a 200 without the expected JSON
        right = False
    return kind, response.status_code, right, message


def slow_client(port):
    """Send a request's headers one byte every SLOW_BYTE_S for SLOW_CLIENT_S, then give up: what became of it."""
    head = (f"POST /api/predict?model={MODEL} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 1000\r\n\r\n").encode()
    deadline = time.monotonic() + SLOW_CLIENT_S
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT_S)
    except OSError as error:
        return "slow client", f"could not connect ({type(error).__name__})", False, None
    with sock:
        for byte in head:
            if time.monotonic() >= deadline:
                return "slow client", "gave up", True, None
            try:
                sock.sendall(bytes([byte]))
            except OSError as error:
                return "slow client", f"closed by server ({type(error).__name__})", True, None
            time.sleep(SLOW_BYTE_S)
    return "slow client", "sent whole head", False, None


def malformed_jobs(count, good, bad):
    """[(kind, send, check)]: count - SLOW_CLIENTS bad requests (HUGE_BODIES of them 100 MB bodies, the others of
    every other kind in turn, shuffled), one good request after every BAD_PER_GOOD."""
    kinds = [kind for kind in bad if kind != "100 MB body"]
    chosen = ["100 MB body"] * HUGE_BODIES + [kinds[i % len(kinds)] for i in range(count - SLOW_CLIENTS - HUGE_BODIES)]
    random.Random(0).shuffle(chosen)
    jobs = []
    for index, kind in enumerate(chosen, 1):
        jobs.append((kind, bad[kind], CHECKS.get(kind, is_refusal)))
        if index % BAD_PER_GOOD == 0:
            jobs.append(("good", *good[index // BAD_PER_GOOD % len(good)]))
    return jobs


def tally(outcomes):
    """{kind: sent, outcomes seen, wrong outcomes, 5xx, connection errors, one error message}."""
    kinds = {}
    for kind, outcome, right, message in outcomes:
        entry = kinds.setdefault(kind, {"sent": 0, "outcomes": collections.Counter(), "wrong": 0, "server_errors": 0,
                                        "connection_errors": 0, "example_error": None})
        entry["sent"] += 1
        entry["outcomes"][str(outcome)] += 1
        entry["wrong"] += not right
        entry["server_errors"] += isinstance(outcome, int) and outcome >= 500
        entry["connection_errors"] += isinstance(outcome, str) and kind != "slow client"
        entry["example_error"] = entry["example_error"] or message
    return {kind: {**entry, "outcomes": dict(entry["outcomes"])} for kind, entry in sorted(kinds.items())}


def malformed_phase(server, count, pngs):
    """The malformed requests, interleaved with good ones on WORKERS threads, while SLOW_CLIENTS trickle headers."""
    good = [good_request(png, expected_class(server.url, png)) for png in pngs]
    server.phase = "malformed"
    jobs = malformed_jobs(count, good, bad_requests(pngs[0]))
    start = time.perf_counter()
    with ThreadPoolExecutor(SLOW_CLIENTS) as slow, ThreadPoolExecutor(WORKERS) as pool:
        trickling = [slow.submit(slow_client, server.port) for _ in range(SLOW_CLIENTS)]
        outcomes = list(pool.map(lambda job: attempt(server.url, *job), jobs)) + [t.result() for t in trickling]
    seconds = time.perf_counter() - start
    try:
        alive = requests.get(f"{server.url}/api/health", timeout=REQUEST_TIMEOUT_S).ok
    except requests.RequestException:
        alive = False
    return {"requests": len(outcomes), "seconds": round(seconds, 1), "health_after": alive, "kinds": tally(outcomes)}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of each Locust run (default: 60)")
    parser.add_argument("--users", type=int, default=50, help="concurrent Locust users (default: 50)")
    parser.add_argument("--malformed", type=int, default=1000,
                        help=f"malformed requests, {SLOW_CLIENTS} slow clients and {HUGE_BODIES} "
                             f"{HUGE_BODY_MB} MB bodies among them (default: 1000)")
    parser.add_argument("--perturb", action="store_true",
                        help="the Locust requests carry random lab settings (shift, rotate, noise, scramble)")
    args = parser.parse_args()
    if args.duration < 1 or args.users < 1 or args.malformed <= SLOW_CLIENTS + HUGE_BODIES:
        parser.error(f"--duration and --users must be positive, --malformed over {SLOW_CLIENTS + HUGE_BODIES}")
    return args


def problems(results):
    """What went wrong, one line each; empty when every check passed."""
    found = [f"load {name}: {phase['failures']} failed requests, locust exit status {phase['locust_exit_status']}"
             for name, phase in results["load"].items() if phase["failures"] or phase["locust_exit_status"]]
    found += [f"malformed phase, {kind}: {entry['wrong']} wrong outcomes, {entry['server_errors']} 5xx"
              for kind, entry in results["malformed"]["kinds"].items() if entry["wrong"] or entry["server_errors"]]
    server = results["server"]
    if not results["malformed"]["health_after"]:
        found.append("/api/health did not answer after the malformed phase")
    if server["exit_status"] != 0:
        found.append(f"bin/serve exit status {server['exit_status']} on SIGTERM (None: killed)")
    if server["tracebacks"]:
        found.append(f"{server['tracebacks']} tracebacks in the server's log")
    return found


def summary(results):
    memory = results["in_memory"]
    lines = [f"in-memory {MODEL}: {memory['throughput_images_per_s']} images/s "
             f"(batch {memory['throughput_batch_size']})",
             "", f"{'load':<8}{'requests':>9}{'failed':>7}{'req/s':>8}{'images/s':>9}{'p50 ms':>8}{'p95 ms':>8}"
                 f"{'p99 ms':>8}{'img/call':>9}{'/memory':>8}"]
    for name, phase in results["load"].items():
        lines.append(f"{name:<8}{phase['requests']:>9}{phase['failures']:>7}{phase['requests_per_s']:>8}"
                     f"{phase['images_per_s']:>9}{phase['p50_ms']:>8.0f}{phase['p95_ms']:>8.0f}{phase['p99_ms']:>8.0f}"
                     f"{phase['images_per_model_call'] or '-':>9}{phase['served_to_in_memory']:>8}")
    lines.append("cores' worth of CPU, server + Locust: " + ", ".join(
        f"{name} {phase['server_cores']} + {phase['locust_cores']}" for name, phase in results["load"].items()))
    malformed = results["malformed"]
    lines += ["", f"malformed phase: {malformed['requests']} requests in {malformed['seconds']} s, health after: "
                  f"{malformed['health_after']}", f"{'kind':<24}{'sent':>6}{'wrong':>6}{'5xx':>5}  outcomes"]
    lines += [f"{kind:<24}{entry['sent']:>6}{entry['wrong']:>6}{entry['server_errors']:>5}  {entry['outcomes']}"
              for kind, entry in malformed["kinds"].items()]
    server = results["server"]
    lines += ["", f"server: ready in {server['ready_s']} s, exit status {server['exit_status']}, peak RSS MiB "
                  + ", ".join(f"{phase} {mib}" for phase, mib in server["peak_rss_mib"].items())]
    return "\n".join(lines)


def main():
    args = parse_args()
    images, _ = load_split(ROOT / prepared_split("test"))
    results = {"timestamp": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "machine": {**machine(), "load_average_1m": round(os.getloadavg()[0], 2)},
               "parameters": {"model": MODEL, "duration_s": args.duration, "users": args.users, "perturb": args.perturb,
                              "batch_images": BATCH_IMAGES, "malformed": args.malformed, "workers": WORKERS,
                              "bad_per_good": BAD_PER_GOOD, "slow_clients": SLOW_CLIENTS,
                              "huge_bodies": HUGE_BODIES, "huge_body_mb": HUGE_BODY_MB}}
    results["in_memory"] = inference(MODEL, images, evaluate_batch_size())
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as temp:
        server = Server(Path(temp) / "serve.log")
        try:
            ready_s = server.wait_ready()
            results["load"] = {name: load_phase(server, count, args, Path(temp))
                               for name, count in (("single", 1), (f"batch{BATCH_IMAGES}", BATCH_IMAGES))}
            results["malformed"] = malformed_phase(server, args.malformed,
                                                   [png_bytes(image) for image in images[:GOOD_IMAGES]])
            server.phase = "shutdown"
        finally:
            exit_status = server.stop()
        log = server.log()
    for phase in results["load"].values():
        phase["served_to_in_memory"] = round(phase["images_per_s"] / results["in_memory"]["throughput_images_per_s"], 3)
    results["server"] = {"ready_s": ready_s, "exit_status": exit_status, "tracebacks": log.count("Traceback"),
                         "peak_rss_mib": {**server.peak_mib, "overall": max(server.peak_mib.values())}}
    results["problems"] = problems(results)
    results_file = PERTURBED_RESULTS if args.perturb else RESULTS
    write_json(results_file, results)
    print(summary(results))
    if results["problems"]:
        if results["server"]["tracebacks"]:
            print(f"the server's log:\n{log}", file=sys.stderr)
        sys.exit("bench: " + "; ".join(results["problems"]))
    print(f"wrote {results_file.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
