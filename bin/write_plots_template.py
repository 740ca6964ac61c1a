"""Write .dvc/offline-plots.html: DVC's plots page with vega, vega-lite and vega-embed inlined.

DVC's default page loads those libraries from a CDN and renders blank without internet; this template
carries them (from the vl-convert-python package), so `dvc plots show` works offline.
"""
from pathlib import Path

import vl_convert

from fmnist.atomic import write_text

TARGET = Path(__file__).resolve().parents[1] / ".dvc" / "offline-plots.html"
VEGA_LITE_VERSION = "5.8"  # DVC's plot templates are written for Vega-Lite 5
PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Fashion-MNIST ANN vs CNN: DVC plots</title>
<script>BUNDLE</script>
<style>
  body { font-family: sans-serif; display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
  body > div { flex: 0 0 auto; }
  img { max-width: 900px; }
</style>
</head>
<body>
{plot_divs}
</body>
</html>
"""


def main():
    write_text(TARGET, PAGE.replace("BUNDLE", vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)))


if __name__ == "__main__":
    main()
