"""Locust user for bench/serve_load.py: posts test images as PNG to /api/predict?model=cnn, back to back, and counts
a response as failed unless it is a 200 whose JSON says every image sent was classified.

FMNIST_BENCH_IMAGES (default 1) sets the images per request; FMNIST_BENCH_PERTURB=1 gives every request random lab
settings (shift, rotate, noise, scramble, each over its whole allowed range). bench/serve_load.py runs it; alone, from
the project root:
    FMNIST_BENCH_IMAGES=16 .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8000
"""
import itertools
import os
import random
from pathlib import Path

from urllib.parse import urlencode

from locust import FastHttpUser, events, task
from locust.stats import print_error_report
from urllib3 import encode_multipart_formdata

from fmnist.data import load_split
from fmnist.paths import prepared_split
from fmnist.serving.lab import NOISE_LIMIT, ROTATE_LIMIT, SHIFT_LIMIT
from fmnist.serving.study import png_bytes

ROOT = Path(__file__).resolve().parents[1]
IMAGES_PER_REQUEST = int(os.environ.get("FMNIST_BENCH_IMAGES", "1"))
PERTURB = os.environ.get("FMNIST_BENCH_PERTURB", "0") == "1"
BODIES = 64  # distinct request bodies, each a different run of consecutive test images


def request_bodies():
    """[(multipart body, content type)], built once so that the load generator spends its CPU on sending."""
    images, _ = load_split(ROOT / prepared_split("test"))
    bodies = []
    for start in range(0, BODIES * IMAGES_PER_REQUEST, IMAGES_PER_REQUEST):
        parts = [("files", (f"{index}.png", png_bytes(images[index]), "image/png"))
                 for index in range(start, start + IMAGES_PER_REQUEST)]
        bodies.append(encode_multipart_formdata(parts))
    return bodies


REQUESTS = request_bodies()


def predict_url():
    """/api/predict for the CNN, with random lab settings when PERTURB."""
    if not PERTURB:
        return "/api/predict?model=cnn"
    shift = f"{random.randint(-SHIFT_LIMIT, SHIFT_LIMIT)},{random.randint(-SHIFT_LIMIT, SHIFT_LIMIT)}"
    return "/api/predict?" + urlencode({"model": "cnn", "shift": shift,
                                        "rotate": round(random.uniform(-ROTATE_LIMIT, ROTATE_LIMIT), 1),
                                        "noise": round(random.uniform(0, NOISE_LIMIT), 2),
                                        "scramble": random.choice(["true", "false"])})


@events.test_stop.add_listener
def report_failures(environment, **_):
    """Print the failures into Locust's output: with --json-file, Locust itself leaves them out."""
    if environment.stats.errors:
        print_error_report(environment.stats)


class Client(FastHttpUser):
    def on_start(self):
        self.bodies = itertools.islice(itertools.cycle(REQUESTS), random.randrange(BODIES), None)

    @task
    def predict(self):
        body, content_type = next(self.bodies)
        with self.client.post(predict_url(), data=body, headers={"Content-Type": content_type},
                              name=f"/api/predict x{IMAGES_PER_REQUEST}{' perturbed' * PERTURB}",
                              catch_response=True) as response:
            try:
                classified = response.json().get("classified") if response.status_code == 200 else None
            except ValueError:  # a 200 that is not JSON
                classified = None
            if response.status_code != 200 or classified != IMAGES_PER_REQUEST:
                response.failure(f"status {response.status_code}, classified {classified!r} of {IMAGES_PER_REQUEST}")
