"use strict";
// The page: send images to /api/predict (both models, with maps) and draw the answers; the first one also goes to
// the lab (lab.js). No external code.

const MODEL_NAMES = { ann: "ANN (dense)", cnn: "CNN (convolutional)" };
const MAP_NAMES = { ann: "ANN saliency", cnn: "CNN activation map" };
const results = document.getElementById("results");

function element(tag, attributes = {}, ...children) {
  return filled(document.createElement(tag), attributes, children);
}

function svgElement(tag, attributes = {}, ...children) {
  return filled(document.createElementNS("http://www.w3.org/2000/svg", tag), attributes, children);
}

function filled(node, attributes, children) {
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function percent(value) { return (100 * value).toFixed(1) + "%"; }

async function showStudy() {
  const glance = document.getElementById("glance");
  const study = await (await fetch("/api/study")).json();
  const g = study.glance;
  glance.textContent = g === null
    ? "The study's metrics are missing: run bin/pipeline (or dvc pull) to see its numbers here."
    : `Test accuracy: ANN ${percent(g.ann_accuracy)}, CNN ${percent(g.cnn_accuracy)}. The CNN gains ` +
      `${(100 * g.gain).toFixed(2)} points (${Math.round(100 * g.confidence)}% interval ` +
      `${(100 * g.gain_low).toFixed(2)} to ${(100 * g.gain_high).toFixed(2)}; McNemar p = ${g.p_value.toExponential(1)}).`;
  if (study.plots) glance.append(" ", element("a", { href: "/plots/" }, "All plots (dvc plots show)."));
  const examples = document.getElementById("examples");
  if (!study.examples.length) examples.append("No test images: run bin/pipeline (or dvc pull) first.");
  for (const example of study.examples) {
    const button = element("button", { type: "button", title: example.caption },
      element("img", { src: example.url, alt: example.caption }), example.caption);
    button.addEventListener("click", async () => {
      const blob = await (await fetch(example.url)).blob();
      classify([new File([blob], example.caption.split(":")[0] + ".png", { type: "image/png" })]);
    });
    examples.append(button);
  }
}

async function classify(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  const pending = element("p", { class: "note" }, `Classifying ${files.length} image(s)…`);
  results.prepend(pending);
  try {
    const response = await fetch("/api/predict?model=both&explain=true", { method: "POST", body: form });
    const answer = await response.json();
    pending.remove();
    if (!answer.results) { results.prepend(failure("request", answer.error)); return; }
    results.prepend(...answer.results.map((entry, index) =>
      entry.error ? failure(entry.path, entry.error) : withLabButton(card(entry), files[index])));
    const first = answer.results.findIndex((entry) => !entry.error);
    if (first >= 0) openLab(files[first]);
  } catch (error) {
    pending.remove();
    results.prepend(failure("request", `the server did not answer (${error}): is bin/serve still running?`));
  }
}

function failure(name, message) {
  return element("article", { class: "result failed", "data-path": name },
    element("h3", {}, name), element("p", { class: "error" }, message));
}

function card(entry) {
  const pictures = element("div", { class: "pictures" },
    element("figure", {}, element("img", { src: entry.image, alt: "as the models see it" }), "model input"));
  const models = element("div", { class: "models" });
  for (const name of ["ann", "cnn"]) {
    const answer = entry[name];
    pictures.append(element("figure", { class: "map", "data-model": name }, heatCanvas(entry.image, answer.map),
      MAP_NAMES[name]));
    const column = element("div", { class: "model", "data-model": name }, element("h4", {}, MODEL_NAMES[name]));
    for (const ranked of answer.top) {
      const bar = element("div", { class: "bar" }, `${ranked.class} ${percent(ranked.probability)}`,
        element("span", { style: `width: ${percent(ranked.probability)}` }));
      column.append(bar);
    }
    column.dataset.topClass = answer.class;
    models.append(column);
  }
  const agree = element("p", { class: entry.agree ? "agree" : "agree no" },
    entry.agree ? `Both say ${entry.cnn.class}.` : `They disagree: ANN ${entry.ann.class}, CNN ${entry.cnn.class}.`);
  return element("article", { class: "result", "data-path": entry.path }, element("h3", {}, entry.path),
    pictures, models, agree);
}

function withLabButton(article, file) {
  const button = element("button", { type: "button", class: "to-lab" }, "Try it in the lab");
  button.addEventListener("click", () => openLab(file, true));
  article.append(button);
  return article;
}

function heatCanvas(imageUrl, map) {
  // The model input in grey under its map in orange (opacity follows the map's value).
  const canvas = element("canvas", { width: 28, height: 28 });
  const context = canvas.getContext("2d");
  const image = new Image();
  image.onload = () => {
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, 28, 28);
    for (let row = 0; row < 28; row++) {
      for (let col = 0; col < 28; col++) {
        const at = 4 * (28 * row + col), heat = map[row][col], grey = 0.6 * pixels.data[at];
        pixels.data[at] = grey + heat * (255 - grey);
        pixels.data[at + 1] = grey + heat * (150 - grey);
        pixels.data[at + 2] = grey * (1 - heat);
      }
    }
    context.putImageData(pixels, 0, 0);
    canvas.dataset.drawn = "true";
  };
  image.src = imageUrl;
  return canvas;
}

const drop = document.getElementById("drop");
document.getElementById("picker").addEventListener("change", (event) => classify([...event.target.files]));
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  classify([...event.dataTransfer.files]);
});
showStudy();
