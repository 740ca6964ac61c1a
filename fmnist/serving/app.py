"""The web app and JSON API over the trained models (FastAPI on uvicorn): one page, /api/predict, /api/health.

Images go through bin/predict's own path (fmnist.images.model_input, fmnist.prediction.class_probabilities and
ranked), so both answer alike; the lab's query parameters perturb that input with the study's code
(fmnist.serving.lab). Uploads stay in memory; no name a client sends reaches the file system.
"""
import asyncio
import base64
import platform
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.formparsers import MultiPartParser

from fmnist.why.attribution import attention_maps
from fmnist.data import CLASS_NAMES
from fmnist.errors import StudyError, first_line
from fmnist.images import model_input
from fmnist.params import MODEL_NAMES
from fmnist.prediction import DEFAULT_TOP, json_record, ranked
from fmnist.serving.batching import MicroBatcher
from fmnist.serving.guards import Guards, add_error_handlers
from fmnist.serving.lab import ALLOWED, LIMITS, ORDER, Perturbation, applied, perturbation_query, perturbed
from fmnist.serving.study import control_result, examples, glance, lab_curves, png_bytes

STATIC_DIR = Path(__file__).with_name("static")
FIELD = "files"          # the multipart field that carries the images
NAME_LENGTH = 200        # longer upload names are cut when echoed back
MAP_DECIMALS = 3
UPLOAD_BODY = {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FIELD],
    "properties": {FIELD: {"type": "array", "items": {"type": "string", "format": "binary"},
                           "description": "one or more image files, any format bin/predict takes"}}}}}}


@dataclass
class ServedModel:
    name: str
    model: object        # the saved Keras model, loaded in safe mode
    file: str
    md5: str
    locked_md5: str | None  # the md5 dvc.lock records for the file, when there is one
    batcher: MicroBatcher


def create_app(served, settings, root, seeds):
    """The ASGI app. served: {name: ServedModel}; settings: ServeParams; root: the project (metrics, plots, data);
    seeds: the lab's StudySeeds."""
    decoder = ThreadPoolExecutor(settings.decode_workers, thread_name_prefix="decode")
    gallery = examples(root)
    lab_facts = {"order": ORDER, "limits": LIMITS, "allowed": ALLOWED, "curves": lab_curves(root),
                 "control": control_result(root)}
    plots = root / "dvc_plots"  # `dvc plots show` writes it; served when it exists at start
    has_plots = plots.is_dir()
    versions = installed_versions(("tensorflow-cpu", "tensorflow", "keras", "fastapi", "uvicorn"))
    max_bytes = int(settings.max_body_mb * 2**20)

    @asynccontextmanager
    async def lifespan(app):
        for model in served.values():
            model.batcher.start()
        yield
        for model in served.values():
            await model.batcher.stop()
        decoder.shutdown(wait=True)

    app = FastAPI(title="Fashion-MNIST ANN vs CNN", version=version("fmnist-study"), lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; /openapi.json stays
                  description="Classify clothing images with the study's two trained models (docs/serve.md).")
    add_error_handlers(app, ALLOWED)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/api/health", summary="Models loaded, their md5 (and dvc.lock's), versions")
    async def health():
        return {"status": "ok",
                "models": {name: {"file": model.file, "md5": model.md5, "dvc_lock_md5": model.locked_md5,
                                  "matches_dvc_lock": model.md5 == model.locked_md5,
                                  "model_calls": model.batcher.calls}
                           for name, model in served.items()},
                "classes": list(CLASS_NAMES), "versions": versions}

    @app.get("/api/study", summary="The study's headline numbers and the example images")
    async def study():
        return {"glance": glance(root), "plots": has_plots,
                "examples": [{"caption": caption, "url": f"/api/examples/{index}.png"}
                             for index, (caption, _) in enumerate(gallery)]}

    @app.get("/api/lab", summary="The lab's settings, and the committed run's robustness curves and control result")
    async def lab():
        return lab_facts

    @app.get("/api/examples/{index}.png", summary="One example test image as PNG")
    async def example(index: int):
        if not 0 <= index < len(gallery):
            raise HTTPException(404, f"no example {index}: there are {len(gallery)}")
        return Response(png_bytes(gallery[index][1]), media_type="image/png")

    @app.post("/api/predict", openapi_extra={"requestBody": UPLOAD_BODY},
              summary="Classify uploaded images; the fields of bin/predict --json per image",
              description="With the lab's parameters, each model input is perturbed first, in the order shift, "
                          "rotate, noise, scramble (docs/serve.md#the-lab); each result then carries it as `image` "
                          "and the response echoes the settings as `perturbation`.")
    async def predict(request: Request, model: Literal[(*MODEL_NAMES, "both")] = "both",
                      top: int = Query(DEFAULT_TOP, ge=1, le=len(CLASS_NAMES)), explain: bool = False,
                      perturbation: Perturbation = Depends(perturbation_query)):
        uploads = await read_uploads(request, settings.max_files, max_bytes)
        loop = asyncio.get_running_loop()
        decoded = await asyncio.gather(*(loop.run_in_executor(decoder, lab_input, data, name, perturbation, seeds)
                                         for name, data in uploads))
        with_image = explain or not perturbation.is_identity()
        good = [index for index, item in enumerate(decoded) if not isinstance(item, str)]
        names = list(served) if model == "both" else [model]
        answers = await classify(np.stack([decoded[i] for i in good]), [served[n] for n in names], explain) \
            if good else {}
        results, row = [], 0
        for (name, _), item in zip(uploads, decoded):
            if isinstance(item, str):
                results.append({"path": name, "error": item})
                continue
            results.append(result(name, item, {n: a[row] for n, a in answers.items()}, top, explain, with_image))
            row += 1
        body = {"model": model, "top": top, "classified": len(good), "failed": len(uploads) - len(good),
                "results": results}
        if not perturbation.is_identity():
            body["perturbation"] = applied(perturbation, seeds)
        if not good:
            return JSONResponse({"error": f"no image could be classified: {results[0]['error']}", **body}, 422)
        return body

    if has_plots:
        app.mount("/plots", StaticFiles(directory=plots, html=True), name="plots")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return Guards(app, max_bytes)


def installed_versions(packages):
    """{package: version} of those installed, and Python's."""
    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found | {"python": platform.python_version()}


async def read_uploads(request, max_files, max_bytes):
    """[(name, bytes)] of the request's 'files' parts (a body of at most max_bytes); HTTPException 4xx for anything
    else. Nothing is written to disk."""
    # Starlette spools each upload over 1 MB to a temporary file; Guards has the body in memory already: keep it there.
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, max_bytes + 1)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, f"send the images as multipart/form-data in a field named '{FIELD}'")
    form = await request.form(max_files=max_files, max_fields=10)  # malformed, too many files: Starlette's 400
    try:
        unknown = sorted(set(form.keys()) - {FIELD})
        if unknown:
            raise HTTPException(400, f"unknown form field '{unknown[0]}': send images in a field named '{FIELD}'")
        parts = form.getlist(FIELD)
        if not parts:
            raise HTTPException(400, f"no images: send one or more files in a field named '{FIELD}'")
        if any(isinstance(part, str) for part in parts):
            raise HTTPException(400, f"the '{FIELD}' field must hold files, not text")
        return [((part.filename or f"file {number}")[:NAME_LENGTH], await part.read())
                for number, part in enumerate(parts, 1)]
    finally:
        await form.close()


def decode(data, name):
    """The model input of one upload, or the one-line reason it has none."""
    try:
        return model_input(data, name)
    except StudyError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001  a decoder failure Pillow does not classify: still that file's problem
        return f"{name}: cannot be converted ({first_line(error)}): save it as PNG or JPEG"


def lab_input(data, name, perturbation, seeds):
    """decode(data, name), then perturbed as the lab asks (the blank rule applies to the upload, before it)."""
    pixels = decode(data, name)
    return pixels if isinstance(pixels, str) else perturbed(pixels, perturbation, seeds)


async def classify(images, models, explain):
    """{name: [(probabilities, map or None)] per image}, each model's call shared with concurrent requests."""
    probabilities = await asyncio.gather(*(model.batcher(images) for model in models))
    answers = {}
    for model, rows in zip(models, probabilities):
        maps = [None] * len(images)
        if explain:
            maps = await model.batcher.run_alone(attention_maps, model.model, images, rows.argmax(axis=1))
        answers[model.name] = list(zip(rows, maps))
    return answers


def result(name, pixels, answers, top, explain, with_image):
    """One image's entry: bin/predict's JSON record (one model), or one per model and whether they agree (both);
    with_image: and the model input as a PNG data URL."""
    records = {}
    for model, (probabilities, saliency) in answers.items():
        records[model] = json_record(name, ranked(probabilities, top))
        if explain:
            records[model]["map"] = np.round(saliency, MAP_DECIMALS).tolist()
    if len(records) == 1:
        entry = next(iter(records.values()))
    else:
        entry = {"path": name, **{model: without_path(record) for model, record in records.items()},
                 "agree": len({record["class"] for record in records.values()}) == 1}
    if with_image:
        entry["image"] = "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode()
    return entry


def without_path(record):
    return {key: value for key, value in record.items() if key != "path"}
