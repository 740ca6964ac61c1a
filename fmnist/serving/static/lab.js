"use strict";
// The lab: the server perturbs one image with the study's own code (/api/predict's shift, rotate, noise, scramble)
// and both models answer; beside it the committed run's curves (/api/lab) with a marker at the current setting.
// Nothing here perturbs an image. Uses element, svgElement, card, failure and percent from page.js.

const DEBOUNCE_MS = 150;  // a slider drag asks once it pauses; a newer setting aborts the request in flight
const COLOURS = { ann: "#3a7bd5", cnn: "#0a6" };
const PLOT = { left: 40, right: 312, top: 10, bottom: 175 };
const SLIDERS = ["shift-rows", "shift-cols", "rotate", "noise"];
const UNITS = { shift: " px", rotate: "°", noise: "" };
const CAPTIONS = {
  shift: "Test accuracy of the committed models on the 10,000 test images shifted by this many pixels (each " +
    "image one way: up, down, left or right; averaged). The marker: your shift's length, √(rows² + cols²).",
  rotate: "Test accuracy on the 10,000 test images rotated by this many degrees (positive: counter-clockwise).",
  noise: "Test accuracy on the 10,000 test images with Gaussian noise of this standard deviation (a share of 255).",
};
const labSection = document.getElementById("lab");
const labResult = document.getElementById("lab-result");
const labForm = document.getElementById("lab-controls");
const lab = { file: null, facts: null, setting: "shift", controller: null, timer: null };

function control(name) { return document.getElementById(`lab-${name}`); }

async function setUpLab() {
  lab.facts = await (await fetch("/api/lab")).json();
  const { shift, rotate, noise } = lab.facts.limits;
  const ranges = { "shift-rows": [-shift, shift], "shift-cols": [-shift, shift], rotate: [-rotate, rotate],
    noise: [0, noise] };
  for (const [name, [low, high]] of Object.entries(ranges)) Object.assign(control(name), { min: low, max: high });
  labForm.addEventListener("input", (event) => { lab.setting = event.target.dataset.setting; labChanged(); });
  labForm.addEventListener("reset", () => setTimeout(labChanged));  // the form's values change after the event
  drawChart(labValues());
}

function openLab(file, scroll = false) {
  lab.file = file;
  labSection.hidden = false;
  document.getElementById("lab-name").textContent = file.name;
  if (scroll) labSection.scrollIntoView({ behavior: "smooth" });
  askLab(labValues());
}

function labValues() {
  return { rows: Number(control("shift-rows").value), cols: Number(control("shift-cols").value),
    rotate: Number(control("rotate").value), noise: Number(control("noise").value),
    scramble: control("scramble").checked };
}

function labQuery(values) {
  return `shift=${values.rows},${values.cols}&rotate=${values.rotate}&noise=${values.noise}` +
    `&scramble=${values.scramble}`;
}

function labChanged() {
  const values = labValues();
  for (const name of SLIDERS) document.getElementById(`lab-${name}-value`).textContent = control(name).value;
  drawChart(values);
  clearTimeout(lab.timer);
  lab.timer = setTimeout(() => askLab(values), DEBOUNCE_MS);
}

async function askLab(values) {
  if (!lab.file) return;
  if (lab.controller) lab.controller.abort();  // its answer is for a setting no longer shown
  const controller = lab.controller = new AbortController();
  const query = labQuery(values), form = new FormData();
  form.append("files", lab.file, lab.file.name);
  labSection.dataset.sent = Number(labSection.dataset.sent) + 1;
  labResult.dataset.state = "pending";
  try {
    const response = await fetch(`/api/predict?model=both&explain=true&${query}`,
      { method: "POST", body: form, signal: controller.signal });
    const answer = await response.json();
    const entry = answer.results ? answer.results[0] : { path: lab.file.name, error: answer.error };
    labResult.replaceChildren(entry.error ? failure(entry.path, entry.error) : card(entry));
    Object.assign(labResult.dataset, { query, state: "done" });
  } catch (error) {
    if (error.name === "AbortError") {
      labSection.dataset.aborted = Number(labSection.dataset.aborted) + 1;
      return;
    }
    labResult.replaceChildren(failure("request", `the server did not answer (${error}): is bin/serve still running?`));
    Object.assign(labResult.dataset, { query, state: "failed" });
  }
}

function markerX(values) {
  if (lab.setting === "shift") return Math.hypot(values.rows, values.cols);
  if (lab.setting === "scramble") return values.scramble ? 1 : 0;
  return values[lab.setting];
}

function interpolated(points, x) {
  // The curve's accuracy at x: a measured point's own value, else the straight line between its neighbours.
  for (let i = 1; i < points.length; i++) {
    const [x0, a0] = points[i - 1], [x1, a1] = points[i];
    if (x === x0) return a0;
    if (x === x1) return a1;
    if (x0 < x && x < x1) return a0 + (a1 - a0) * (x - x0) / (x1 - x0);
  }
  return null;
}

function tickLabel(x) {
  if (lab.setting === "scramble") return x ? "scrambled" : "original";
  return `${x}${UNITS[lab.setting]}`;
}

function drawChart(values) {
  const svg = document.getElementById("lab-chart"), caption = document.getElementById("lab-caption");
  const curves = lab.facts && lab.facts.curves[lab.setting];
  svg.replaceChildren();
  if (!curves) {
    caption.textContent = "The committed run's results are missing: run bin/pipeline (or dvc pull) to see them here.";
    return;
  }
  const xs = curves.ann.map(([x]) => x), low = Math.min(...xs), high = Math.max(...xs);
  const scale = { x: (x) => PLOT.left + (PLOT.right - PLOT.left) * (x - low) / (high - low),
    y: (accuracy) => PLOT.bottom - (PLOT.bottom - PLOT.top) * accuracy };
  drawAxes(svg, xs, scale);
  for (const [name, points] of Object.entries(curves)) {
    svg.append(svgElement("polyline", { class: "curve", "data-model": name, stroke: COLOURS[name],
      points: points.map(([x, accuracy]) => `${scale.x(x)},${scale.y(accuracy)}`).join(" ") }));
    for (const [x, accuracy] of points) {
      svg.append(svgElement("circle", { class: "point", "data-model": name, "data-x": x, fill: COLOURS[name],
        cx: scale.x(x), cy: scale.y(accuracy), r: 2.5 }));
    }
  }
  const marker = drawMarker(svg, curves, markerX(values), scale, low, high);
  caption.textContent = `${lab.setting === "scramble" ? controlCaption() : CAPTIONS[lab.setting]} ${reading(marker)}`;
}

function drawAxes(svg, xs, scale) {
  for (const accuracy of [0, 0.25, 0.5, 0.75, 1]) {
    const y = scale.y(accuracy);
    svg.append(svgElement("line", { class: "grid", x1: PLOT.left, x2: PLOT.right, y1: y, y2: y }),
      svgElement("text", { class: "tick y", x: PLOT.left - 4, y: y + 3 }, `${100 * accuracy}%`));
  }
  for (const x of xs) {
    svg.append(svgElement("text", { class: "tick x", x: scale.x(x), y: PLOT.bottom + 14 }, tickLabel(x)));
  }
  svg.append(svgElement("text", { class: "legend", fill: COLOURS.ann, x: PLOT.left + 6, y: PLOT.bottom - 8 }, "ANN"),
    svgElement("text", { class: "legend", fill: COLOURS.cnn, x: PLOT.left + 36, y: PLOT.bottom - 8 }, "CNN"));
}

function drawMarker(svg, curves, x, scale, low, high) {
  // Drawn at the setting, or pinned to the edge beyond the measured range; its data says where it stands.
  const inside = x >= low && x <= high, at = scale.x(Math.min(Math.max(x, low), high));
  const marker = svgElement("g", { id: "lab-marker", "data-setting": lab.setting, "data-x": x,
    "data-inside": inside, "data-position": at },
  svgElement("line", { class: inside ? "marker" : "marker outside", x1: at, x2: at, y1: PLOT.top, y2: PLOT.bottom }));
  for (const [name, points] of Object.entries(curves)) {
    const accuracy = inside ? interpolated(points, x) : null;
    marker.setAttribute(`data-${name}`, accuracy === null ? "" : accuracy);
    if (accuracy !== null) {
      marker.append(svgElement("circle", { class: "marker-dot", stroke: COLOURS[name], cx: at, cy: scale.y(accuracy),
        r: 4.5 }));
    }
  }
  svg.append(marker);
  return marker;
}

function reading(marker) {
  const x = Number(marker.dataset.x), where = tickLabel(Number(x.toFixed(2)));
  if (marker.dataset.inside !== "true") return `Your setting, ${where}, is beyond the measured range.`;
  return `At ${where}: ANN ${percent(Number(marker.dataset.ann))}, CNN ${percent(Number(marker.dataset.cnn))}.`;
}

function controlCaption() {
  const control = lab.facts.control, points = (change) => (100 * change.value).toFixed(2);
  if (!control) return "The control stage: mean test accuracy of both models retrained on original or scrambled " +
    "pixels.";
  return `The control stage: both models retrained from scratch on ${control.train_images.toLocaleString("en")} ` +
    `training images, original or scrambled, ${control.seeds} seeds (mean test accuracy). Scrambling changes the ` +
    `ANN by ${points(control.ann.change)} points and the CNN by ${points(control.cnn.change)}: the CNN's lead comes ` +
    "from neighbouring pixels. The models answering here never saw scrambled pixels, so on a scrambled image both " +
    "guess.";
}

setUpLab();
