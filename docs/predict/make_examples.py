"""Demo "photos" for bin/predict and the before/after figure of docs/predict.md.

There are no camera photos here, so the photos are made from real test images: scaled up 8 to 12 times, coloured,
set off centre on a light or transparent background, and saved in the formats and colour modes bin/predict reads.
The model has seen none of these test images in training, but they are Fashion-MNIST images underneath: expect
it to do better on them than on real photos.

Run from the project root once the pipeline has run (it needs data/prepared/test.npz and models/cnn.keras):
    .venv/bin/python docs/predict/make_examples.py
Writes docs/predict/photos/* and docs/predict/before_after.png.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from fmnist.atomic import atomic_path, save_figure
from fmnist.data import CLASS_NAMES, load_split
from fmnist.images import load_image, to_model_input
from fmnist.model_files import load_model
from fmnist.paths import model_file, prepared_split

HERE = Path(__file__).resolve().parent
PHOTOS = HERE / "photos"
FIGURE = HERE / "before_after.png"

# (file name, class, colour of the garment, scale, canvas size, where the garment sits (fraction of the free
# space left and above it), how it is saved)
EXAMPLES = [
    ("sneaker.jpg", "Sneaker", "#1f4e9c", 10, (400, 300), (0.2, 0.7), "jpeg"),
    ("bag.png", "Bag", "#7a4a1e", 9, (300, 320), (0.5, 0.3), "transparent"),
    ("dress.webp", "Dress", "#b0203a", 12, (420, 380), (0.8, 0.5), "webp"),
    ("trouser.gif", "Trouser", "#2d2d2d", 8, (260, 240), (0.3, 0.5), "gif"),
    ("pullover.tif", "Pullover", "#3b7d3a", 9, (280, 300), (0.5, 0.9), "cmyk"),
    ("ankle-boot.bmp", "Ankle boot", "#5a3825", 6, (200, 170), (0.1, 0.2), "bmp"),
    ("shirt-16bit.png", "Shirt", "#000000", 8, (250, 250), (0.6, 0.4), "grey16"),
]


def product_photo(image, colour, scale, canvas, place):
    """A test image (garment light on black) as a product photo: RGB garment in `colour`, shaded by the image,
    on white; and the garment's opacity (for a cut-out)."""
    side = image.shape[0] * scale
    grey = Image.fromarray(255 - image).resize((side, side), Image.Resampling.LANCZOS)
    garment = ImageOps.colorize(grey, black=colour, white="white")
    opacity = Image.fromarray(np.clip(image.astype(np.int32) * 4, 0, 255).astype(np.uint8)).resize(
        (side, side), Image.Resampling.LANCZOS)
    offset = tuple(int((total - side) * fraction) for total, fraction in zip(canvas, place))
    photo = Image.new("RGB", canvas, "white")
    photo.paste(garment, offset)
    alpha = Image.new("L", canvas, 0)
    alpha.paste(opacity, offset)
    return photo, alpha


def save_photo(photo, alpha, kind, path):
    with atomic_path(path) as temp:
        if kind == "jpeg":
            photo.save(temp, "JPEG", quality=85)
        elif kind == "transparent":  # the garment cut out; the hidden pixels are black
            cutout = Image.new("RGB", photo.size, "black")
            cutout.paste(photo, mask=alpha)
            cutout.putalpha(alpha)
            cutout.save(temp, "PNG", optimize=True)
        elif kind == "webp":
            beige = Image.new("RGB", photo.size, (226, 220, 208))  # not white: the background is levelled to black
            Image.composite(photo, beige, alpha).save(temp, "WEBP", quality=80)
        elif kind == "gif":
            photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(temp, "GIF")
        elif kind == "cmyk":
            photo.convert("CMYK").save(temp, "TIFF", compression="tiff_adobe_deflate")
        elif kind == "bmp":
            photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=256).save(temp, "BMP")
        elif kind == "grey16":
            deep = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
            Image.fromarray(deep).save(temp, "PNG", optimize=True)


def first_of_each(labels, names):
    return {name: int(np.flatnonzero(labels == CLASS_NAMES.index(name))[0]) for name in names}


def before_after_figure(rows):
    """One row per photo: the file as stored, the 28x28 input the model gets, the test image it was made from.

    rows: dicts with path, label (a title), photo (PIL image), converted and original (28x28 arrays), verdict.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(rows), 3, figsize=(6.6, 2.05 * len(rows)))
    for row, (photo_axis, input_axis, original_axis) in zip(rows, axes):
        photo_axis.imshow(row["photo"])
        photo_axis.set_title(row["label"], fontsize=8)
        input_axis.imshow(row["converted"], cmap="gray", vmin=0, vmax=255)
        input_axis.set_title(f"model input\n{row['verdict']}", fontsize=8)
        original_axis.imshow(row["original"], cmap="gray", vmin=0, vmax=255)
        original_axis.set_title(f"test image it came from\n{row['truth']}", fontsize=8)
        for axis in (photo_axis, input_axis, original_axis):
            axis.set_xticks([])
            axis.set_yticks([])
    figure.tight_layout()
    return figure


def main():
    images, labels = load_split(prepared_split("test"))
    chosen = first_of_each(labels, [example[1] for example in EXAMPLES])
    PHOTOS.mkdir(parents=True, exist_ok=True)
    model = load_model(model_file("cnn"), "cnn")
    rows = []
    for name, class_name, colour, scale, canvas, place, kind in EXAMPLES:
        original = images[chosen[class_name]]
        photo, alpha = product_photo(original, colour, scale, canvas, place)
        path = PHOTOS / name
        save_photo(photo, alpha, kind, path)
        stored = load_image(path)
        converted = to_model_input(stored, name=path)
        probabilities = model.predict(converted[None].astype("float32"), verbose=0)[0]
        best = int(probabilities.argmax())
        rows.append({"photo": displayable(stored), "converted": converted, "original": original,
                     "label": f"{name}\n{stored.mode}, {stored.width}x{stored.height}, "
                              f"{path.stat().st_size // 1024} KB",
                     "verdict": f"CNN: {CLASS_NAMES[best]} {probabilities[best]:.2f}",
                     "truth": f"test image {chosen[class_name]}: {class_name}"})
        print(f"{name}: {stored.mode} {stored.size}, {path.stat().st_size} bytes -> "
              f"{CLASS_NAMES[best]} {probabilities[best]:.3f} (truth {class_name})")
    save_figure(before_after_figure(rows), FIGURE)
    with atomic_path(FIGURE) as temp:  # 256 colours look the same here and take half the bytes
        palette = Image.open(FIGURE).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
        palette.save(temp, "PNG", optimize=True)
    print(f"wrote {FIGURE} ({FIGURE.stat().st_size} bytes)")


def displayable(image):
    """An RGBA view of the stored image for matplotlib (16-bit grey scaled to 8 bits; transparency kept)."""
    if image.mode.startswith("I"):
        image = Image.fromarray((np.asarray(image, dtype=np.float64) / 257).round().astype(np.uint8))
    return image.convert("RGBA")


if __name__ == "__main__":
    sys.exit(main())
