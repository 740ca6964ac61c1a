"""bin/serve on a real uvicorn server over tiny untrained models of the study's own architectures: the API's answers
against bin/predict's, every bad-input kind, the limits, the blank rule, shutdown, the lab's perturbations against the
study's own code, and the page and its lab in headless Chromium.
"""
import asyncio
import base64
import hashlib
import io
import json
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from starlette.requests import Request

from conftest import PROJECT_PARAMS_FILE, project_params, project_section
from fmnist import prediction
from fmnist.data import CLASS_NAMES
from fmnist.params import MODEL_PARAMS, ControlParams, RobustnessParams, ServeParams, parse_section
from fmnist.images import model_input
from fmnist.serving.app import read_uploads
from fmnist.serving.batching import MicroBatcher
from fmnist.serving.lab import study_seeds
from fmnist.serving.study import control_result, examples, glance, lab_curves
from fmnist.why.control import pixel_permutation, scrambled
from fmnist.why.results import why_metrics
from fmnist.why.robustness import noisy, rotated, shifted
from test_predict import garment_photo, png_header

PROJECT = Path(__file__).resolve().parents[1]
SERVE = PROJECT / "bin" / "serve"
DEMO_PHOTOS = sorted((PROJECT / "docs" / "predict" / "photos").iterdir())
SETTINGS = parse_section("serve", project_section("serve"), ServeParams)
READY = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
TINY = {"ann": {"hidden_units": [16], "epochs": 1}, "cnn": {"filters": [4, 8], "dense_units": 16, "epochs": 1}}


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """Untrained models of the study's builders (flip-averaged, as trained ones are saved): seeded, so fixed."""
    import keras

    from fmnist.model_files import save_model
    from fmnist.models import BUILDERS
    from fmnist.training import deployed_model

    folder = tmp_path_factory.mktemp("models")
    for name, overrides in TINY.items():
        params = project_params(name, MODEL_PARAMS[name], **overrides)
        keras.utils.set_random_seed(1)
        save_model(deployed_model(BUILDERS[name](params), params), folder / f"{name}.keras")
    return folder


def start_server(models_dir, *args, env=None):
    """A running bin/serve on a free port: (process, base URL). Its stderr goes to a file read for the port."""
    log = models_dir.parent / f"serve-{time.monotonic_ns()}.log"
    process = subprocess.Popen([SERVE, "--port", "0", "--models-dir", models_dir, *args], cwd=PROJECT,
                               stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = READY.search(log.read_text())
        if found:
            return process, f"http://127.0.0.1:{found[1]}", log
        if process.poll() is not None:
            raise AssertionError(f"bin/serve exited {process.returncode}: {log.read_text()}")
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"bin/serve not ready in 120 s: {log.read_text()}")


@pytest.fixture(scope="module")
def server(models_dir):
    """One server for the module."""
    process, url, log = start_server(models_dir)
    yield {"url": url, "process": process, "log": log}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in log.read_text()


def post(server, files, params=None, **options):
    return httpx.post(f"{server['url']}/api/predict", files=files, params=params or {}, timeout=60, **options)


def uploads(paths):
    return [("files", (path.name, path.read_bytes())) for path in paths]


# --- answers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["ann", "cnn"])
def test_the_api_answers_as_bin_predict_json_does(server, models_dir, model, capsys):
    assert prediction.main(["--json", "--model", model, "--models-dir", str(models_dir),
                            *map(str, DEMO_PHOTOS)]) == 0
    expected = json.loads(capsys.readouterr().out)
    response = post(server, uploads(DEMO_PHOTOS), {"model": model})
    assert response.status_code == 200
    body = response.json()
    assert (body["classified"], body["failed"]) == (len(DEMO_PHOTOS), 0)
    for served, printed in zip(body["results"], expected, strict=True):
        assert served["path"] == Path(printed["path"]).name
        assert set(served) == set(printed) and served["class"] == printed["class"]
        assert [entry["class"] for entry in served["top"]] == [entry["class"] for entry in printed["top"]]
        assert np.allclose([entry["probability"] for entry in served["top"]],
                           [entry["probability"] for entry in printed["top"]], rtol=0, atol=1e-6)


def test_both_models_answer_side_by_side_with_their_maps(server):
    response = post(server, uploads(DEMO_PHOTOS), {"model": "both", "top": 5, "explain": "true"})
    assert response.status_code == 200
    peaks = {"ann": [], "cnn": []}
    for entry in response.json()["results"]:
        assert entry["agree"] == (entry["ann"]["class"] == entry["cnn"]["class"])
        assert entry["image"].startswith("data:image/png;base64,")
        for model in ("ann", "cnn"):
            assert len(entry[model]["top"]) == 5
            probabilities = [ranked["probability"] for ranked in entry[model]["top"]]
            assert probabilities == sorted(probabilities, reverse=True)
            saliency = np.array(entry[model]["map"])
            assert saliency.shape == (28, 28) and saliency.min() >= 0 and saliency.max() in (0, 1)
            peaks[model].append(saliency.max())
    assert min(peaks["ann"]) == 1, "an input gradient is never zero everywhere"
    assert max(peaks["cnn"]) == 1, "an activation map may be empty (no positive evidence), but not every one"


def test_a_bad_file_is_named_and_the_rest_of_the_batch_classified(server):
    files = uploads(DEMO_PHOTOS[:2]) + [("files", ("notes.png", b"not a picture"))] + uploads(DEMO_PHOTOS[2:3])
    response = post(server, files, {"model": "cnn"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [("error" in entry) for entry in results] == [False, False, True, False]
    assert results[2]["error"] == "notes.png: not an image Pillow can read: save it as PNG or JPEG"


BLANK_IMAGES = {
    "white.png": Image.new("RGB", (60, 80), (255, 255, 255)),
    "grey.png": Image.new("L", (40, 40), 128),
    "clear.png": Image.new("RGBA", (50, 50), (10, 200, 30, 0)),
    "dot.png": Image.new("L", (1, 1), 0),
}


@pytest.mark.parametrize("name", BLANK_IMAGES)
def test_a_blank_image_is_reported_as_blank_not_given_a_class(server, name, tmp_path, capsys, models_dir):
    data = png(BLANK_IMAGES[name])
    response = post(server, [("files", (name, data))], {"model": "cnn"})
    assert response.status_code == 422
    assert re.fullmatch(rf"{re.escape(name)}: blank image \(contrast \d+ of 255 after conversion, below 32\): "
                        r"nothing to classify; use a picture of one garment", response.json()["results"][0]["error"])
    (tmp_path / name).write_bytes(data)
    assert prediction.main(["--models-dir", str(models_dir), str(tmp_path / name)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "blank image" in err


# --- bad requests ---------------------------------------------------------------------------------------------

def truncated_png():
    data = png(Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)))
    return data[: len(data) // 2]


BAD_FILES = {
    "not an image": (b"just text", "not an image Pillow can read"),
    "empty": (b"", r"empty file \(0 bytes\)"),
    "truncated": (truncated_png(), "truncated or corrupt image"),
    "decompression bomb": (png_header(30000, 30000), r"too large \(900,000,000 pixels"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_request_with_only_a_bad_file_gets_422_and_its_reason(server, kind):
    data, reason = BAD_FILES[kind]
    response = post(server, [("files", ("upload.png", data))])
    assert response.status_code == 422
    assert re.match(rf"no image could be classified: upload\.png: {reason}", response.json()["error"])


def multipart_with(fields):
    boundary = "fmnist-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="a.png"\r\n'
             f"Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n" for name, data in fields]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def bad_request(server, kind):
    url = f"{server['url']}/api/predict"
    photo = DEMO_PHOTOS[0].read_bytes()
    if kind == "too large a body":
        return httpx.post(url, content=b"x" * (int(SETTINGS.max_body_mb * 2**20) + 1),
                          headers={"content-type": "multipart/form-data; boundary=x"}, timeout=60)
    if kind == "too many files":
        return post(server, [("files", ("a.png", photo))] * (SETTINGS.max_files + 1))
    if kind == "wrong field":
        return post(server, [("file", ("a.png", photo))])
    if kind == "text in the files field":
        return httpx.post(url, files=[("files", ("a.png", photo))], data={"files": "hello"}, timeout=60)
    if kind == "no files":
        body, content_type = multipart_with([])
        return httpx.post(url, content=body, headers={"content-type": content_type}, timeout=60)
    if kind == "broken multipart":
        body, content_type = multipart_with([("files", photo)])
        return httpx.post(url, content=body[:200], headers={"content-type": content_type}, timeout=60)
    if kind == "not multipart":
        return httpx.post(url, json={"files": "a.png"}, timeout=60)
    if kind == "wrong method":
        return httpx.put(url, content=photo, timeout=60)
    if kind == "unknown model":
        return post(server, [("files", ("a.png", photo))], {"model": "rnn"})
    if kind == "top out of range":
        return post(server, [("files", ("a.png", photo))], {"top": 11})
    if kind == "malformed content length":
        with socket.create_connection(("127.0.0.1", int(server["url"].rsplit(":", 1)[1])), timeout=30) as sock:
            sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n")
            return httpx.Response(int(sock.recv(4096).split()[1]))
    raise ValueError(kind)


BAD_REQUESTS = {"too large a body": 413, "too many files": 400, "wrong field": 400, "text in the files field": 400,
                "no files": 400, "broken multipart": 400, "not multipart": 415, "wrong method": 405,
                "unknown model": 422, "top out of range": 422, "malformed content length": 400}


@pytest.mark.parametrize("kind", BAD_REQUESTS)
def test_a_bad_request_gets_a_4xx_json_error_in_one_line(server, kind):
    response = bad_request(server, kind)
    assert response.status_code == BAD_REQUESTS[kind]
    if kind != "malformed content length":  # uvicorn's own parser answers that one, before the app
        error = response.json()["error"]
        assert error and "\n" not in error and "Traceback" not in error
        assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{server['url']}/api/health").status_code == 200, "the server is still up"


def test_an_upload_over_a_megabyte_is_read_without_touching_the_disk(monkeypatch):
    photo = np.asarray(garment_photo(mode="RGB", size=(1500, 1000), box=(200, 300, 1300, 700)), dtype=np.int16)
    grain = np.random.default_rng(1).integers(-6, 7, photo.shape)  # within the trim's tolerance, but no PNG squeezes it
    data = png(Image.fromarray(np.clip(photo + grain, 0, 255).astype(np.uint8)))
    assert 2**20 < len(data) < SETTINGS.max_body_mb * 2**20  # Starlette spools more than 1 MB to a temporary file
    body, content_type = multipart_with([("files", data)])

    def to_disk(*args):
        raise AssertionError("an upload went to a temporary file")

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", to_disk)

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request({"type": "http", "method": "POST", "path": "/api/predict", "query_string": b"",
                       "headers": [(b"content-type", content_type.encode())]}, receive)
    parts = asyncio.run(read_uploads(request, SETTINGS.max_files, int(SETTINGS.max_body_mb * 2**20)))
    assert parts == [("a.png", data)]
    assert model_input(data, "a.png").max() > 128, "and it is the photo"


# --- the lab ----------------------------------------------------------------------------------------------------

ROBUSTNESS = project_params("robustness", RobustnessParams)
CONTROL = project_params("control", ControlParams)
LAB_SETTINGS = {  # query parameters -> (shift, rotate, noise, scramble) as the study's functions take them
    "shift": ({"shift": "2,-3"}, ((2, -3), 0.0, 0.0, False)),
    "rotate": ({"rotate": "17.5"}, ((0, 0), 17.5, 0.0, False)),
    "noise": ({"noise": "0.2"}, ((0, 0), 0.0, 0.2, False)),
    "scramble": ({"scramble": "true"}, ((0, 0), 0.0, 0.0, True)),
    "all four": ({"shift": "-1,4", "rotate": "-30", "noise": "0.1", "scramble": "true"}, ((-1, 4), -30.0, 0.1, True)),
}


def study_perturbation(image, shift, rotate, noise, scramble):
    """The robustness stage's shift, rotation and noise, then the control's scramble, of one image (all applied,
    even at their identity), the seeds from params.yaml."""
    images = noisy(rotated(shifted(image[None], *shift), rotate), noise, ROBUSTNESS.seed)
    return (scrambled(images, pixel_permutation(CONTROL.seed)) if scramble else images)[0]


def data_url_pixels(url):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.removeprefix("data:image/png;base64,")))))


@pytest.mark.parametrize("setting", LAB_SETTINGS)
def test_the_labs_input_is_the_study_codes_perturbation_pixel_for_pixel(server, setting):
    query, (shift, rotate, noise, scramble) = LAB_SETTINGS[setting]
    photo = DEMO_PHOTOS[0]
    body = post(server, uploads([photo]), {"model": "both", **query}).json()
    served = data_url_pixels(body["results"][0]["image"])
    original = model_input(photo.read_bytes(), photo.name)
    np.testing.assert_array_equal(served, study_perturbation(original, shift, rotate, noise, scramble))
    assert not np.array_equal(served, original)
    assert body["perturbation"] == {"order": ["shift", "rotate", "noise", "scramble"], "shift": list(shift),
                                    "rotate": rotate, "noise": noise, "scramble": scramble,
                                    "noise_seed": ROBUSTNESS.seed, "permutation_seed": CONTROL.seed}
    as_uploaded = post(server, [("files", ("perturbed.png", png(Image.fromarray(served))))], {"model": "both"})
    for model in ("ann", "cnn"):  # the models answered the perturbed input
        assert body["results"][0][model]["top"] == as_uploaded.json()["results"][0][model]["top"]


def test_without_lab_settings_nothing_is_perturbed_or_added(server):
    plain = post(server, uploads(DEMO_PHOTOS[:1]), {"model": "cnn"}).json()
    zero = post(server, uploads(DEMO_PHOTOS[:1]), {"model": "cnn", "shift": "0,0", "rotate": "0", "noise": "0",
                                                   "scramble": "false"}).json()
    assert plain == zero and "perturbation" not in plain and "image" not in plain["results"][0]


BAD_LAB_VALUES = {
    "shift out of range": ({"shift": "15,0"}, "shift", r"\[-14, 14\]"),
    "shift of one number": ({"shift": "2"}, "shift", r"'rows,cols'"),
    "shift not whole pixels": ({"shift": "1.5,0"}, "shift", r"whole numbers"),
    "rotate out of range": ({"rotate": "181"}, "rotate", r"\[-180, 180\]"),
    "rotate not a number": ({"rotate": "ten"}, "rotate", r"\[-180, 180\]"),
    "rotate not finite": ({"rotate": "nan"}, "rotate", r"\[-180, 180\]"),
    "noise below 0": ({"noise": "-0.1"}, "noise", r"\[0, 1\]"),
    "noise over 1": ({"noise": "1.5"}, "noise", r"\[0, 1\]"),
    "scramble not a bool": ({"scramble": "maybe"}, "scramble", r"true or false"),
}


@pytest.mark.parametrize("kind", BAD_LAB_VALUES)
def test_a_bad_lab_value_gets_422_naming_the_parameter_and_its_range(server, kind):
    query, name, allowed = BAD_LAB_VALUES[kind]
    response = post(server, uploads(DEMO_PHOTOS[:1]), query)
    assert response.status_code == 422
    error = response.json()["error"]
    assert "\n" not in error and re.match(rf"{name} must be .*{allowed}.*, got '{re.escape(query[name])}'$", error)


def test_openapi_documents_the_lab_parameters_and_api_lab_serves_the_curves(server):
    parameters = {parameter["name"]: parameter for parameter in
                  httpx.get(f"{server['url']}/openapi.json").json()["paths"]["/api/predict"]["post"]["parameters"]}
    for name in ("shift", "rotate", "noise", "scramble"):
        assert name in parameters and parameters[name]["description"]
    assert "[-14, 14]" in parameters["shift"]["description"]
    assert (parameters["rotate"]["schema"]["minimum"], parameters["rotate"]["schema"]["maximum"]) == (-180, 180)
    lab = httpx.get(f"{server['url']}/api/lab").json()
    assert lab["order"] == ["shift", "rotate", "noise", "scramble"] and lab["limits"]["shift"] == 14
    assert lab["curves"] == lab_curves(PROJECT) and lab["control"] == control_result(PROJECT)


def test_the_labs_curves_come_from_the_committed_runs_metrics(tmp_path):
    assert lab_curves(tmp_path) == {} and control_result(tmp_path) is None
    robustness = why_metrics(PROJECT)["robustness"]
    control = json.loads((PROJECT / "metrics/compare.json").read_text())["control"]
    curves = lab_curves(PROJECT)
    for model in ("ann", "cnn"):
        assert curves["shift"][model][0] == [0, robustness[model]["shift"]["0"]]
        assert dict(curves["rotate"][model])[-20] == robustness[model]["rotation"]["-20"]
        assert [x for x, _ in curves["noise"][model]] == sorted(map(float, robustness[model]["noise"]))
        assert curves["scramble"][model] == [[0, control[model]["original"]["mean"]],
                                             [1, control[model]["scrambled"]["mean"]]]
    assert control_result(PROJECT)["cnn"]["change"] == control["cnn"]["change"]


# --- the service ------------------------------------------------------------------------------------------------

def test_health_names_the_models_their_md5_and_versions(server, models_dir):
    health = httpx.get(f"{server['url']}/api/health").json()
    for name in ("ann", "cnn"):
        model = health["models"][name]
        assert model["md5"] == hashlib.md5((models_dir / f"{name}.keras").read_bytes()).hexdigest()
        assert model["dvc_lock_md5"] is None and model["matches_dvc_lock"] is False  # not the project's models/
    assert {"keras", "fastapi", "uvicorn", "python"} <= set(health["versions"])


def test_openapi_describes_predict_and_no_page_loads_anything_from_elsewhere(server):
    spec = httpx.get(f"{server['url']}/openapi.json").json()
    assert "multipart/form-data" in spec["paths"]["/api/predict"]["post"]["requestBody"]["content"]
    assert httpx.get(f"{server['url']}/docs").status_code == 404  # Swagger UI would load its scripts from a CDN
    page = httpx.get(server["url"] + "/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in page.headers
    for text in [page.text] + [httpx.get(f"{server['url']}/static/{name}").text for name in ("page.js", "page.css")]:
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text), "offline: no external resources"


def test_a_client_path_cannot_reach_the_file_system(server):
    for path in ("/static/../../../params.yaml", "/static/%2e%2e/%2e%2e/params.yaml", "/api/examples/-1.png"):
        response = httpx.get(server["url"] + path)
        assert response.status_code == 404 and "serve:" not in response.text


def test_concurrent_callers_share_model_calls_and_get_their_own_rows():
    async def scenario():
        def predict(images):
            time.sleep(0.05)  # a model call long enough for the other callers to queue
            return images * 10

        batcher = MicroBatcher(predict, max_images=64, name="test")
        batcher.start()
        first = asyncio.create_task(batcher(np.full((1, 2), 0)))
        await asyncio.sleep(0.01)  # the worker takes the first caller alone; the others queue behind its call
        answers = [await first] + list(await asyncio.gather(
            *(batcher(np.full((1 + caller % 3, 2), caller)) for caller in range(1, 10))))
        await batcher.stop()
        return batcher.calls, answers

    calls, answers = asyncio.run(scenario())
    assert calls == 2, "the first caller alone, then the nine that queued meanwhile in one call"
    for caller, rows in enumerate(answers):
        assert rows.shape == (1 + caller % 3, 2) and (rows == 10 * caller).all()


def test_a_missing_model_is_one_line_saying_how_to_get_it(tmp_path):
    result = subprocess.run([SERVE, "--models-dir", tmp_path, "--host", "0.0.0.0"], cwd=PROJECT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    warning, error = result.stderr.strip().splitlines()
    assert warning.startswith("warning: listening on 0.0.0.0: anyone who can reach this machine")
    assert re.fullmatch(r"error: .*ann\.keras is missing: run `dvc pull` \(from a remote\) or `dvc repro train_ann`",
                        error)


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(models_dir):
    process, url, log = start_server(models_dir)
    body, content_type = multipart_with([("files", DEMO_PHOTOS[0].read_bytes())])
    head = (f"POST /api/predict?model=cnn HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=60) as sock:
        sock.sendall(head + body[:100])
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[100:])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["classified"] == 1
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in log.read_text()


def test_the_study_glance_and_examples_come_from_the_pipelines_outputs(tmp_path):
    assert glance(tmp_path) is None and examples(tmp_path) == []
    assert glance(PROJECT)["cnn_accuracy"] == json.loads((PROJECT / "metrics/compare.json").read_text())[
        "cnn_accuracy"]["value"]
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 5).astype(np.uint8)
    (tmp_path / "data/prepared").mkdir(parents=True)
    (tmp_path / "data/predictions").mkdir()
    np.savez(tmp_path / "data/prepared/test.npz", images=rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
             labels=labels)
    for name, wrong in (("ann", [3, 8, 13]), ("cnn", [21, 26])):
        probabilities = np.eye(10, dtype=np.float32)[labels] * 0.9 + 0.01
        probabilities[wrong] = np.roll(probabilities[wrong], 1, axis=1)
        np.savez(tmp_path / f"data/predictions/{name}.npz", probabilities=probabilities, labels=labels)
    captions = [caption for caption, _ in examples(tmp_path)]
    assert captions[:8] == [f"test #{5 * label}: {name}" for label, name in enumerate(CLASS_NAMES[:8])]
    assert captions[8].startswith("test #3: T-shirt/top, the ANN says") and captions[10].startswith("test #21: ")
    assert len(captions) == 12


# --- the page in a real browser ---------------------------------------------------------------------------------

def test_the_page_classifies_an_upload_and_shows_both_answers_and_maps(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server["url"] + "/")
    WebDriverWait(browser, 30).until(lambda driver: "Test accuracy" in driver.find_element(By.ID, "glance").text)
    photos = [DEMO_PHOTOS[0], DEMO_PHOTOS[1]]
    browser.find_element(By.ID, "picker").send_keys("\n".join(map(str, photos)))
    cards = WebDriverWait(browser, 60).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "#results article.result"))
    expected = post(server, uploads(photos), {"model": "both"}).json()["results"]
    assert [card.get_attribute("data-path") for card in cards] == [photo.name for photo in photos]
    for card, answer in zip(cards, expected):
        for model in ("ann", "cnn"):
            column = card.find_element(By.CSS_SELECTOR, f'.model[data-model="{model}"]')
            assert column.get_attribute("data-top-class") == answer[model]["class"]
            assert column.find_element(By.CSS_SELECTOR, ".bar").text.startswith(answer[model]["class"])
        WebDriverWait(browser, 30).until(lambda _: all(
            canvas.get_attribute("data-drawn") == "true" for canvas in card.find_elements(By.CSS_SELECTOR, "canvas")))
        assert len(card.find_elements(By.CSS_SELECTOR, ".map canvas")) == 2
    browser.set_window_size(375, 800)  # a phone: nothing wider than the window
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.set_window_size(1280, 900)


def test_the_page_shows_a_bad_files_reason_beside_it(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server["url"] + "/")
    blank = tmp_path / "blank.png"
    garment_photo(background=200, garment=200).save(blank)
    browser.find_element(By.ID, "picker").send_keys(str(blank))
    card = WebDriverWait(browser, 60).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, "#results article.failed"))
    assert card.get_attribute("data-path") in ("blank.png", "request")
    assert "blank.png: blank image" in card.find_element(By.CSS_SELECTOR, ".error").text


LAB_QUERY = "shift={},{}&rotate={}&noise=0&scramble=false"  # as the page writes it, unscrambled and without noise


def lab_answer(browser, query):
    """The lab's card once the page has drawn its answer for `query`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def drawn(driver):
        result = driver.find_element(By.ID, "lab-result")
        canvases = result.find_elements(By.CSS_SELECTOR, "canvas")
        return (result.get_attribute("data-query") == query and result.get_attribute("data-state") == "done"
                and len(canvases) == 2 and all(canvas.get_attribute("data-drawn") == "true" for canvas in canvases))
    WebDriverWait(browser, 60).until(drawn)
    return browser.find_element(By.CSS_SELECTOR, "#lab-result article.result")


def test_the_lab_shifts_an_image_and_shows_both_new_answers_and_the_marker_on_the_curve(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server["url"] + "/")
    WebDriverWait(browser, 30).until(lambda driver: driver.find_element(By.ID, "lab-chart").get_attribute("innerHTML"))
    photo = DEMO_PHOTOS[-1]  # made from a Fashion-MNIST test image (docs/predict/make_examples.py)
    browser.find_element(By.ID, "picker").send_keys(str(photo))
    before = lab_answer(browser, LAB_QUERY.format(0, 0, 0)).find_element(By.CSS_SELECTOR, "img").get_attribute("src")
    browser.find_element(By.ID, "lab-shift-rows").send_keys(Keys.ARROW_RIGHT * 4)  # four pixels down
    card = lab_answer(browser, LAB_QUERY.format(4, 0, 0))
    expected = post(server, uploads([photo]), {"model": "both", "explain": "true", "shift": "4,0", "rotate": "0",
                                               "noise": "0", "scramble": "false"}).json()["results"][0]
    assert card.find_element(By.CSS_SELECTOR, "img").get_attribute("src") == expected["image"] != before
    for model in ("ann", "cnn"):
        column = card.find_element(By.CSS_SELECTOR, f'.model[data-model="{model}"]')
        assert column.get_attribute("data-top-class") == expected[model]["class"]
        assert [bar.text for bar in column.find_elements(By.CSS_SELECTOR, ".bar")] == [
            f"{ranked['class']} {100 * ranked['probability']:.1f}%" for ranked in expected[model]["top"]]
    robustness = why_metrics(PROJECT)["robustness"]
    marker = browser.find_element(By.ID, "lab-marker")
    assert (marker.get_attribute("data-setting"), marker.get_attribute("data-x")) == ("shift", "4")
    for model in ("ann", "cnn"):
        assert float(marker.get_attribute(f"data-{model}")) == robustness[model]["shift"]["4"]
        point = browser.find_element(By.CSS_SELECTOR, f'#lab-chart circle.point[data-model="{model}"][data-x="4"]')
        assert float(marker.get_attribute("data-position")) == float(point.get_attribute("cx"))
    caption = browser.find_element(By.ID, "lab-caption").text
    assert f"At 4 px: ANN {100 * robustness['ann']['shift']['4']:.1f}%" in caption


def test_a_slider_drag_asks_once_and_a_stale_request_is_aborted(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server["url"] + "/")
    browser.find_element(By.ID, "picker").send_keys(str(DEMO_PHOTOS[0]))
    lab_answer(browser, LAB_QUERY.format(0, 0, 0))
    lab = browser.find_element(By.ID, "lab")
    sent = int(lab.get_attribute("data-sent"))
    browser.execute_async_script("""const slider = document.getElementById("lab-rotate"), done = arguments[0];
        let degrees = 0;
        const drag = setInterval(() => {  // a drag: a step every 20 ms, twenty steps
          slider.value = ++degrees;
          slider.dispatchEvent(new Event("input", { bubbles: true }));
          if (degrees === 20) { clearInterval(drag); done(); }
        }, 20);""")
    lab_answer(browser, LAB_QUERY.format(0, 0, 20))
    time.sleep(0.5)
    assert int(lab.get_attribute("data-sent")) == sent + 1
    marker = browser.find_element(By.ID, "lab-marker")
    assert (marker.get_attribute("data-setting"), marker.get_attribute("data-x")) == ("rotate", "20")
    browser.execute_script("askLab(labValues()); askLab(labValues());")  # the second makes the first stale
    lab_answer(browser, LAB_QUERY.format(0, 0, 20))
    assert (int(lab.get_attribute("data-sent")), lab.get_attribute("data-aborted")) == (sent + 3, "1")


def test_the_plots_page_is_served_when_dvc_plots_exists(tmp_path):
    from fmnist.serving.app import create_app

    async def fetch(root, path):
        transport = httpx.ASGITransport(app=create_app({}, SETTINGS, root, study_seeds(PROJECT_PARAMS_FILE)))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    assert asyncio.run(fetch(tmp_path, "/plots/")).status_code == 404
    assert asyncio.run(fetch(tmp_path, "/api/study")).json()["plots"] is False
    (tmp_path / "dvc_plots").mkdir()
    (tmp_path / "dvc_plots" / "index.html").write_text("<h1>the plots</h1>")
    assert asyncio.run(fetch(tmp_path, "/plots/")).text == "<h1>the plots</h1>"
    assert asyncio.run(fetch(tmp_path, "/api/study")).json()["plots"] is True
