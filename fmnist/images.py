"""A user's image file -> the 28x28 uint8 array the models saw in training (Fashion-MNIST's own conversion).

Fashion-MNIST made its images from product photos on a light background (github.com/zalandoresearch/fashion-mnist,
"Get the data"): trim the edges close to the background colour, fit the longest edge to 28 keeping the aspect
ratio, centre on a 28x28 canvas, negate, grey. to_model_input follows those steps; an image that is already 28x28
is taken as framed and only turned grey and, on a light background, negated, so a test image passes unchanged.
"""
import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from fmnist.data import IMAGE_SIDE
from fmnist.errors import StudyError, first_line

# Pillow refuses images over twice this many pixels and warns over it; load_image turns the warning into an
# error too. 64 megapixels (8000x8000) is above any phone camera's output and keeps one decode under ~260 MB.
MAX_PIXELS = 64_000_000
WORKING_SIDE = 1024       # larger images are reduced to this before trimming: a garment filling a tenth of the
                          # frame still spans 100 pixels, and the trim works on 1M pixels at most
TRIM_TOLERANCE = 0.05     # Fashion-MNIST's trim: within 5% of the largest RGB distance counts as background
LIGHT_BORDER = 127.5      # mean brightness of the outermost pixel ring above this: a light background, negated
BLANK_CONTRAST = 32       # converted images whose brightest and darkest pixels differ by less are blank: every
                          # Fashion-MNIST image spans 254 or 255 levels; one colour, fully transparent or 1x1 gives 0
# Formats searched for in folders (files named on the command line are tried whatever their name).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp", ".bmp", ".dib",
                            ".tif", ".tiff"})
BOMB_PIXELS = re.compile(r"\((\d+) pixels\) exceeds limit")

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False  # Pillow's default, stated: a truncated file is an error, not grey rows


def model_input(source, name):
    """An image file (a Path, or its bytes as uploaded) -> the uint8 array (28, 28) the models take.

    The one conversion of bin/predict and bin/serve: load_image, to_model_input, then require_content.
    """
    return require_content(to_model_input(load_image(source, name), name), name)


def require_content(pixels, name):
    """`pixels` unless the converted image is blank (contrast below BLANK_CONTRAST): then a StudyError, since a
    model asked about an empty picture still answers with a confident class."""
    contrast = int(pixels.max()) - int(pixels.min())
    if contrast < BLANK_CONTRAST:
        raise StudyError(f"{name}: blank image (contrast {contrast} of 255 after conversion, below "
                         f"{BLANK_CONTRAST}): nothing to classify; use a picture of one garment")
    return pixels


def load_image(source, name=None):
    """The first frame of an image, decoded and upright (EXIF orientation applied). `source` is a file's Path
    or its bytes (never written to disk); `name` labels errors (default: the path).

    Raises StudyError, one line naming the file, the problem and the fix, for anything that is not a whole,
    readable image of a sensible size.
    """
    name = source if name is None else name
    try:
        if isinstance(source, Path):
            if source.exists() and not source.is_file():
                raise StudyError(f"{name}: not a regular file: name an image file or a folder of them")
            size = source.stat().st_size
        else:
            size, source = len(source), io.BytesIO(source)
        if size == 0:
            raise StudyError(f"{name}: empty file (0 bytes): not an image; export or download it again")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd metadata would be multi-line noise
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                image.draft(None, (WORKING_SIDE, WORKING_SIDE))  # JPEG only: decode at a reduced scale when large
                image.load()
    except StudyError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise StudyError(f"{name}: too large ({pixel_count(error)}, the limit is {MAX_PIXELS:,}; "
                         "a possible decompression bomb): scale it down") from None
    except FileNotFoundError:
        raise StudyError(f"{name}: no such file or folder: check the path") from None
    except UnidentifiedImageError:
        raise StudyError(f"{name}: not an image Pillow can read: save it as PNG or JPEG") from None
    except PermissionError as error:
        raise StudyError(f"{name}: cannot be read ({error.strerror}): check its permissions") from None
    except Exception as error:  # noqa: BLE001  Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError...
        raise StudyError(f"{name}: truncated or corrupt image ({first_line(error)}): "
                         "export or download it again") from None
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001  damaged EXIF only loses the orientation, not the picture
        return image


def pixel_count(error):
    """'81,000,000 pixels' from Pillow's decompression bomb message."""
    match = BOMB_PIXELS.search(str(error))
    return f"{int(match[1]):,} pixels" if match else first_line(error)


def to_model_input(image, name="image"):
    """A decoded PIL image -> uint8 array (28, 28), the garment light on a black background.

    An image already 28x28 is only made grey and, if its border is light, negated: a Fashion-MNIST image
    (8-bit grey, dark border) comes back byte for byte. Any other size is trimmed, fitted and centred first.
    `name` only labels errors.
    """
    image = flattened(image, name)
    if image.size == (IMAGE_SIDE, IMAGE_SIDE):
        grey = np.array(image.convert("L"), dtype=np.uint8)
        return 255 - grey if is_light(border_ring(grey)) else grey
    if max(image.size) > WORKING_SIDE:
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    pixels = np.asarray(image, dtype=np.float32)
    grey = image.convert("L")
    grey_ring = border_ring(np.asarray(grey, dtype=np.float32))
    light, background = is_light(grey_ring), int(np.median(grey_ring))
    fitted = fit(grey.crop(garment_box(pixels, np.median(border_ring(pixels), axis=0))))
    canvas = Image.new("L", (IMAGE_SIDE, IMAGE_SIDE), background)
    canvas.paste(fitted, ((IMAGE_SIDE - fitted.width) // 2, (IMAGE_SIDE - fitted.height) // 2))
    result = np.asarray(canvas, dtype=np.float32)
    if light:
        result, background = 255 - result, 255 - background
    return background_to_black(result, background)


def flattened(image, name):
    """A copy of the image as 8-bit 'L' (grey sources) or 'RGB' (all others), transparency composited onto white.

    White because product photos, on which Fashion-MNIST was made, have a white background: a garment cut out
    on a transparent background then looks like one of them.
    """
    mode = image.mode
    try:
        if mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        if mode in ("L", "RGB"):
            return image.copy()
        if mode == "1":
            return image.convert("L")
        if mode.startswith("I") or mode == "F":
            values = np.asarray(image, dtype=np.float64)
            if mode.startswith("I;16") or values.max(initial=0) > 255:  # 16-bit samples
                values = values / 257
            elif mode == "F" and values.max(initial=0) <= 1:  # floating point from 0 to 1
                values = values * 255
            return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")
        return image.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV
    except ValueError:  # a mode Pillow cannot convert
        raise StudyError(f"{name}: colour mode {mode} is not supported: save it as RGB") from None


def border_ring(pixels):
    """The outermost ring of pixels, one row per pixel (a value or an RGB triple)."""
    ring = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])
    return ring.reshape(len(ring), -1)


def is_light(ring):
    """A light background (a photo's white) rather than Fashion-MNIST's black, judged by the border's mean."""
    return float(np.mean(ring)) > LIGHT_BORDER


def garment_box(pixels, background):
    """(left, top, right, bottom) of the pixels farther than TRIM_TOLERANCE from the background colour;
    the whole image when there are none (a blank picture)."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    difference = pixels.reshape(pixels.shape[0], pixels.shape[1], channels) - background
    distance = np.sqrt(np.sum(difference ** 2, axis=2) / channels) / 255  # 1.0 between black and white
    rows, cols = np.nonzero(distance > TRIM_TOLERANCE)
    if not rows.size:
        return 0, 0, pixels.shape[1], pixels.shape[0]
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def fit(image):
    """The image resized so its longest edge is 28, keeping the aspect ratio.

    Lanczos rather than Fashion-MNIST's subsampling and sharpening: it keeps edges as sharp without aliasing
    the fine patterns of a large photo.
    """
    scale = IMAGE_SIDE / max(image.size)
    size = tuple(max(1, round(side * scale)) for side in image.size)
    return image.resize(size, Image.Resampling.LANCZOS)


def background_to_black(pixels, background):
    """Stretch so the background level becomes 0, as in every training image (a white background already is)."""
    if 0 < background < 255:
        pixels = (pixels - background) * (255 / (255 - background))
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
