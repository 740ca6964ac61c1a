"""fmnist.images and fmnist.prediction (bin/predict): every format and mode to the model's 28x28 input, bad files
named one per line, exit statuses, the output shapes. The model is a tiny untrained one, saved once per module."""
import json
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fmnist import images as images_module
from fmnist import prediction
from fmnist.data import CLASS_NAMES
from fmnist.errors import StudyError
from fmnist.images import MAX_PIXELS, load_image, to_model_input
from fmnist.params import MODEL_NAMES

PROJECT = Path(__file__).resolve().parents[1]
PREDICT = PROJECT / "bin" / "predict"

# A "photo": a dark garment 80 wide and 40 tall, off centre on a light 300x200 canvas. Converted, it fills the
# width (28) and half the height (14), centred: rows 7..20, light on black.
CANVAS, GARMENT_BOX = (300, 200), (40, 120, 120, 160)  # (left, top, right, bottom)
FITTED_ROWS, FITTED_COLS = (7, 21), (0, 28)
LIGHT, DARK = 215, 40


def garment_photo(background=LIGHT, garment=DARK, mode="L", box=GARMENT_BOX, size=CANVAS):
    image = Image.new("L", size, background)
    image.paste(garment, box)
    return image.convert(mode)


def saved(image, path, **options):
    image.save(path, **options)
    return path


def assert_fitted_garment(converted, rows=FITTED_ROWS, cols=FITTED_COLS, tolerance=40):
    """Light garment exactly where the fit puts it, black elsewhere (within `tolerance` for lossy formats)."""
    assert converted.shape == (28, 28) and converted.dtype == np.uint8
    inside = np.zeros((28, 28), bool)
    inside[rows[0]:rows[1], cols[0]:cols[1]] = True
    core = np.zeros((28, 28), bool)  # the garment without its edge pixels, where resampling blends
    core[rows[0] + 1:rows[1] - 1, cols[0] + 1:cols[1] - 1] = True
    assert converted[~inside].max() <= tolerance, "background must be black"
    assert converted[core].min() >= 255 - 2 * tolerance - 60, "garment must be light"
    bright_rows = np.nonzero(converted.max(axis=1) > 128)[0]
    bright_cols = np.nonzero(converted.max(axis=0) > 128)[0]
    assert abs(bright_rows[0] - rows[0]) <= 1 and abs(bright_rows[-1] - (rows[1] - 1)) <= 1
    assert abs(bright_cols[0] - cols[0]) <= 1 and abs(bright_cols[-1] - (cols[1] - 1)) <= 1


def converted_file(path):
    return to_model_input(load_image(Path(path)))


# --- conversion: formats and modes -------------------------------------------------------------------------

@pytest.mark.parametrize("suffix, mode, options, tolerance", [
    (".png", "L", {}, 0), (".png", "RGB", {}, 0), (".png", "P", {}, 0), (".png", "1", {}, 0),
    (".jpg", "RGB", {"quality": 90}, 40), (".jpg", "L", {"quality": 90}, 40), (".jpg", "CMYK", {"quality": 90}, 40),
    (".webp", "RGB", {"quality": 90}, 40), (".webp", "RGB", {"lossless": True}, 0),
    (".bmp", "RGB", {}, 0), (".bmp", "P", {}, 0),
    (".tif", "RGB", {}, 0), (".tif", "CMYK", {}, 0), (".tif", "L", {"compression": "tiff_lzw"}, 0),
    (".gif", "P", {}, 0), (".gif", "L", {}, 0),
])
def test_each_format_and_mode_becomes_the_fitted_garment(tmp_path, suffix, mode, options, tolerance):
    photo = garment_photo(mode=mode, **({"background": 255, "garment": 0} if mode == "1" else {}))
    path = saved(photo, tmp_path / f"photo{suffix}", **options)
    assert_fitted_garment(converted_file(path), tolerance=tolerance)


def test_a_16_bit_grey_png_is_scaled_to_8_bits(tmp_path):
    values = np.full(CANVAS[::-1], 60000, np.uint16)
    left, top, right, bottom = GARMENT_BOX
    values[top:bottom, left:right] = 5000
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    path = saved(image, tmp_path / "deep.png")
    assert load_image(path).mode.startswith("I")
    assert_fitted_garment(converted_file(path), tolerance=0)


def test_a_floating_point_tiff_from_0_to_1_is_scaled(tmp_path):
    values = np.asarray(garment_photo(), dtype=np.float32) / 255
    path = saved(Image.fromarray(values, "F"), tmp_path / "float.tif")
    assert load_image(path).mode == "F"
    assert_fitted_garment(converted_file(path), tolerance=1)


def test_a_garment_on_a_transparent_background_is_set_on_white(tmp_path):
    """The transparent pixels are black underneath: dropping the alpha channel would give a dark photo."""
    image = Image.new("RGBA", CANVAS, (0, 0, 0, 0))
    image.paste((90, 20, 20, 255), GARMENT_BOX)  # dark red
    assert_fitted_garment(converted_file(saved(image, tmp_path / "cutout.png")), tolerance=0)
    assert_fitted_garment(converted_file(saved(image, tmp_path / "cutout.webp", lossless=True)), tolerance=0)


def test_a_palette_image_with_a_transparent_index_is_set_on_white(tmp_path):
    image = Image.new("P", CANVAS, 0)
    image.putpalette([0, 0, 0, 30, 30, 160] + [0] * 762)
    image.paste(1, GARMENT_BOX)
    path = saved(image, tmp_path / "palette.gif", transparency=0)
    assert_fitted_garment(converted_file(path), tolerance=0)


def test_a_gif_is_read_from_its_first_frame(tmp_path):
    first = garment_photo(mode="P")
    second = garment_photo(mode="P", box=(0, 0, 30, 200))  # a tall garment at the left edge
    path = tmp_path / "animated.gif"
    first.save(path, save_all=True, append_images=[second], duration=100)
    assert Image.open(path).n_frames == 2
    assert_fitted_garment(converted_file(path), tolerance=0)


def test_a_light_background_is_negated_and_a_dark_one_is_not(tmp_path):
    light = converted_file(saved(garment_photo(background=LIGHT, garment=DARK), tmp_path / "light.png"))
    dark = converted_file(saved(garment_photo(background=DARK, garment=LIGHT), tmp_path / "dark.png"))
    assert_fitted_garment(light, tolerance=0)
    assert_fitted_garment(dark, tolerance=0)
    np.testing.assert_array_equal(light, dark)  # same garment, same contrast: both end light on black


def test_a_grey_background_becomes_black(tmp_path):
    converted = converted_file(saved(garment_photo(background=180, garment=20), tmp_path / "grey.png"))
    assert converted[:7].max() == 0 and converted[14, 14] > 200


def test_a_tall_garment_fits_its_height_and_is_centred_across():
    converted = to_model_input(garment_photo(box=(50, 20, 80, 110), size=(200, 150)))  # 30 wide, 90 tall
    assert_fitted_garment(converted, rows=(0, 28), cols=(9, 18), tolerance=0)  # 28*30/90 = 9 columns


def test_a_small_image_is_enlarged_to_fit():
    converted = to_model_input(garment_photo(box=(3, 5, 13, 10), size=(16, 16)))  # 10 wide, 5 tall
    assert_fitted_garment(converted, tolerance=0)


def test_a_large_photo_is_reduced_first_and_converted_the_same(tmp_path):
    converted = to_model_input(garment_photo(box=(400, 1200, 1200, 1600), size=(3000, 2000)))
    assert_fitted_garment(converted, tolerance=0)


def test_a_blank_image_gives_a_black_input():
    assert not to_model_input(Image.new("RGB", (50, 40), (250, 250, 250))).any()


def test_the_exif_orientation_is_applied(tmp_path):
    """A camera's portrait photo is stored wide, with an orientation tag saying to turn it."""
    stored = garment_photo(box=(40, 120, 220, 160), size=CANVAS)  # wide as stored: 180 x 40
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = saved(stored.convert("RGB"), tmp_path / "portrait.jpg", exif=exif, quality=95)
    converted = converted_file(path)
    bright_rows = np.nonzero(converted.max(axis=1) > 128)[0]
    assert len(bright_rows) >= 26, "upright, the garment is tall"


def test_an_unsupported_colour_mode_is_named_in_one_line():
    with pytest.raises(StudyError, match=r"scan\.tif: colour mode La is not supported: save it as RGB"):
        to_model_input(Image.new("La", (40, 30)), name="scan.tif")  # premultiplied alpha: Pillow cannot convert it


# --- the pass-through that parity with the evaluate stage rests on --------------------------------------------

def fashion_like(seed):
    """A 28x28 uint8 image like the data set's: a garment on black touching the bottom edge, a little off centre
    (trimming, fitting and centring it would move and resample it)."""
    rng = np.random.default_rng(seed)
    image = np.zeros((28, 28), np.uint8)
    image[2:, 4:21] = rng.integers(1, 256, (26, 17))
    return image


@pytest.mark.parametrize("seed", range(3))
def test_a_28x28_grey_image_with_a_dark_border_passes_unchanged(tmp_path, seed):
    original = fashion_like(seed)
    path = saved(Image.fromarray(original), tmp_path / "test.png")
    converted = converted_file(path)
    assert converted.dtype == np.uint8
    np.testing.assert_array_equal(converted, original)


def test_a_28x28_image_with_a_light_border_is_only_negated(tmp_path):
    original = fashion_like(5)
    path = saved(Image.fromarray(255 - original), tmp_path / "inverted.png")
    np.testing.assert_array_equal(converted_file(path), original)


# --- bad files ------------------------------------------------------------------------------------------------

def png_header(width, height):
    """A PNG that declares width x height and holds no pixel data: enough for the size check at open."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def truncated(tmp_path, suffix):
    rng = np.random.default_rng(0)
    full = saved(Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)), tmp_path / f"full{suffix}")
    data = full.read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_FILES = {
    "empty.png": (lambda tmp: (tmp / "empty.png").write_bytes(b""), r"empty file \(0 bytes\)"),
    "notes.png": (lambda tmp: (tmp / "notes.png").write_text("not a picture"), "not an image Pillow can read"),
    "cut.png": (lambda tmp: truncated(tmp, ".png"), r"truncated or corrupt image \(image file is truncated"),
    "cut.jpg": (lambda tmp: truncated(tmp, ".jpg"), r"truncated or corrupt image \(image file is truncated"),
    "cut.tif": (lambda tmp: truncated(tmp, ".tif"), "truncated or corrupt image"),
    "cut.webp": (lambda tmp: truncated(tmp, ".webp"), "truncated or corrupt image"),
    # 9000x9000 passes Pillow's error limit (2 x MAX_PIXELS) but not its warning: the warning must stop it too
    "wide.png": (lambda tmp: (tmp / "wide.png").write_bytes(png_header(9000, 9000)),
                 r"too large \(81,000,000 pixels, the limit is 64,000,000; a possible decompression bomb\)"),
    "bomb.png": (lambda tmp: (tmp / "bomb.png").write_bytes(png_header(30000, 30000)),
                 r"too large \(900,000,000 pixels"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_named_in_one_line_with_the_reason(tmp_path, name):
    make, reason = BAD_FILES[name]
    make(tmp_path)
    with pytest.raises(StudyError, match=rf"^{re.escape(str(tmp_path / name))}: {reason}") as caught:
        load_image(tmp_path / name)
    assert "\n" not in str(caught.value)
    assert ": " in str(caught.value).split(")")[-1], "the line ends with what to do"


def test_the_pixel_limit_sits_between_a_large_photo_and_a_bomb():
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS
    assert 8000 * 6000 < MAX_PIXELS < 9000 * 9000


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    path = saved(garment_photo(), tmp_path / "locked.png")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(images_module.Image, "open", refuse)  # root reads any file, so chmod cannot test this
    with pytest.raises(StudyError, match=r"locked\.png: cannot be read \(Permission denied\): check its permissions"):
        load_image(path)


def test_a_missing_file_and_a_device_are_named(tmp_path):
    with pytest.raises(StudyError, match=r"gone\.png: no such file or folder: check the path"):
        load_image(tmp_path / "gone.png")
    with pytest.raises(StudyError, match=r"not a regular file"):
        load_image(Path("/dev/null"))


# --- the command ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """Tiny untrained models (pixels -> 10 softmax outputs) saved as the pipeline saves them."""
    import keras

    from fmnist.model_files import save_model

    folder = tmp_path_factory.mktemp("models")
    for seed, name in enumerate(MODEL_NAMES):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input(shape=(28, 28), name="image")
        x = keras.layers.Rescaling(1 / 255)(keras.layers.Flatten()(inputs))
        outputs = keras.layers.Dense(len(CLASS_NAMES), activation="softmax",
                                     kernel_initializer=keras.initializers.RandomNormal(stddev=0.3))(x)
        save_model(keras.Model(inputs, outputs), folder / f"{name}.keras")
    return folder


@pytest.fixture
def photos(tmp_path):
    """Three good images in a folder tree, with a hidden file and a non-image file that a folder search skips."""
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    saved(garment_photo(mode="RGB"), folder / "b.jpg")
    saved(Image.fromarray(fashion_like(1)), folder / "a.png")
    saved(garment_photo(box=(50, 20, 80, 110)), folder / "sub" / "c.webp", lossless=True)
    saved(garment_photo(), folder / ".hidden" / "skipped.png")
    saved(garment_photo(), folder / ".skipped.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def run_main(argv, capsys):
    status = prediction.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def expected_probabilities(models_dir, model, paths):
    from fmnist.model_files import load_model

    inputs = np.stack([converted_file(path) for path in paths]).astype("float32")
    return load_model(models_dir / f"{model}.keras", model).predict(inputs, verbose=0)


def test_a_folder_is_searched_recursively_in_order(photos):
    found = prediction.image_files(photos)
    assert [path.relative_to(photos).as_posix() for path in found] == ["a.png", "b.jpg", "sub/c.webp"]


def test_text_rows_hold_the_path_and_the_top_k_classes(photos, models_dir, capsys):
    status, out, err = run_main([photos, "--models-dir", models_dir, "--top", "4"], capsys)
    assert status == 0 and err == ""
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == [str(photos / "a.png"), str(photos / "b.jpg"), str(photos / "sub/c.webp")]
    expected = expected_probabilities(models_dir, "cnn", [row[0] for row in rows])
    for row, probabilities in zip(rows, expected):
        assert len(row) == 1 + 2 * 4
        names, shown = row[1::2], [float(value) for value in row[2::2]]
        order = np.argsort(-probabilities, kind="stable")[:4]
        assert names == [CLASS_NAMES[index] for index in order]
        np.testing.assert_allclose(shown, probabilities[order], atol=5e-5)
        assert shown == sorted(shown, reverse=True)


def test_json_gives_one_record_per_image(photos, models_dir, capsys):
    status, out, _ = run_main([photos / "a.png", photos / "sub", "--json", "--top", "10", "--model", "ann",
                               "--models-dir", models_dir], capsys)
    assert status == 0
    records = json.loads(out)
    assert [record["path"] for record in records] == [str(photos / "a.png"), str(photos / "sub/c.webp")]
    expected = expected_probabilities(models_dir, "ann", [photos / "a.png", photos / "sub/c.webp"])
    for record, probabilities in zip(records, expected):
        assert set(record) == {"path", "class", "probability", "top"}
        assert len(record["top"]) == 10 and {entry["class"] for entry in record["top"]} == set(CLASS_NAMES)
        assert record["class"] == CLASS_NAMES[int(probabilities.argmax())] == record["top"][0]["class"]
        assert record["probability"] == record["top"][0]["probability"]
        by_class = {entry["class"]: entry["probability"] for entry in record["top"]}
        np.testing.assert_allclose([by_class[name] for name in CLASS_NAMES], probabilities, rtol=0, atol=1e-7)


def test_the_models_differ_so_the_model_option_matters(photos, models_dir, capsys):
    outputs = {model: run_main([photos, "--models-dir", models_dir, "--model", model, "--top", "10"], capsys)[1]
               for model in MODEL_NAMES}
    assert outputs["ann"] != outputs["cnn"]


def test_batches_give_the_same_answers_and_the_model_loads_once(photos, models_dir, capsys, monkeypatch):
    loads = []
    real_load = prediction.load_model
    monkeypatch.setattr(prediction, "load_model", lambda *args: loads.append(args) or real_load(*args))
    one_batch = json.loads(run_main([photos, "--json", "--models-dir", models_dir], capsys)[1])
    in_pairs = json.loads(run_main([photos, "--json", "--models-dir", models_dir, "--batch-size", "2"], capsys)[1])
    assert len(loads) == 2, "one load per run"
    assert [record["path"] for record in in_pairs] == [record["path"] for record in one_batch]
    for paired, whole in zip(in_pairs, one_batch):
        assert paired["class"] == whole["class"]
        assert abs(paired["probability"] - whole["probability"]) <= 1e-6


def test_bad_files_are_reported_and_the_good_ones_still_classified(photos, models_dir, tmp_path, capsys):
    (tmp_path / "empty.png").write_bytes(b"")
    truncated(tmp_path, ".png")
    (tmp_path / "empty_folder").mkdir()
    status, out, err = run_main([tmp_path / "empty.png", photos / "a.png", tmp_path / "cut.png", tmp_path / "nope.jpg",
                                 tmp_path / "empty_folder", photos / "notes.txt", "--models-dir", models_dir], capsys)
    assert status == 1
    assert [line.split("\t")[0] for line in out.splitlines()] == [str(photos / "a.png")]
    lines = err.splitlines()
    assert len(lines) == 5 and all(line.startswith("error: ") for line in lines)
    for name in ("empty.png", "cut.png", "nope.jpg", "empty_folder", "notes.txt"):
        assert sum(name in line for line in lines) == 1, name


@pytest.mark.parametrize("argv", [["--top", "0"], ["--top", "11"], ["--top", "two"], ["--model", "rnn"],
                                  ["--batch-size", "0"], []])
def test_a_usage_error_exits_with_status_2(photos, argv, capsys):
    with pytest.raises(SystemExit) as caught:
        prediction.main(([str(photos)] if argv else []) + argv)
    assert caught.value.code == 2
    assert "usage: bin/predict" in capsys.readouterr().err


def predict_command(args, cwd, env=None):
    return subprocess.run([str(PREDICT), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=env or {name: value for name, value in os.environ.items() if name != "PYTHONPATH"})


def test_only_bad_files_fail_in_one_line_each_before_tensorflow_loads(tmp_path, models_dir):
    (tmp_path / "empty.gif").write_bytes(b"")
    (tmp_path / "bomb.png").write_bytes(png_header(30000, 30000))
    result = predict_command(["empty.gif", "bomb.png", "missing.png", "--models-dir", models_dir], cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: empty.gif: empty file (0 bytes): not an image; export or download it again",
        "error: bomb.png: too large (900,000,000 pixels, the limit is 64,000,000; a possible decompression bomb): "
        "scale it down",
        "error: missing.png: no such file or folder: check the path",
    ]  # nothing else: TensorFlow, which prints start-up notices, was never imported


def test_a_missing_model_says_how_to_get_it(tmp_path, photos):
    result = predict_command([photos, "--models-dir", tmp_path], cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {tmp_path}/cnn.keras is missing: run `dvc pull` (from a remote) or `dvc repro train_cnn`"]


def test_a_truncated_model_is_named_in_one_line(tmp_path, photos, models_dir):
    broken = tmp_path / "models"
    broken.mkdir()
    (broken / "ann.keras").write_bytes((models_dir / "ann.keras").read_bytes()[:2000])
    result = predict_command([photos, "--model", "ann", "--models-dir", broken], cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {broken}/ann.keras is corrupt or truncated (not a .keras archive: File is not a zip file): "
        f"restore it with `dvc checkout {broken}/ann.keras` or `dvc repro train_ann`"]


def test_the_command_takes_paths_relative_to_the_callers_folder(photos, models_dir):
    """bin/predict as a user runs it, from their own folder; rows name the paths as given."""
    result = predict_command(["sub", "a.png", "--json", "--top", "2", "--models-dir", models_dir], cwd=photos)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [record["path"] for record in records] == ["sub/c.webp", "a.png"]
    assert all(len(record["top"]) == 2 for record in records)


@pytest.mark.parametrize("brightest, blank", [(0, True), (31, True), (32, False), (255, False)])
def test_an_image_is_blank_below_a_contrast_of_32(brightest, blank):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[10:18, 10:18] = brightest
    if blank:
        with pytest.raises(StudyError, match=rf"^x\.png: blank image \(contrast {brightest} of 255"):
            images_module.require_content(pixels, "x.png")
    else:
        assert images_module.require_content(pixels, "x.png") is pixels
