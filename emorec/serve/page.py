"""The single web page served at GET / (self-contained: inline CSS and JS, no external assets)."""

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>emorec - emotion recognition from video</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 960px;
         padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  .sub { color: #666; margin-top: 0; }
  form { border: 1px solid #ddd; border-radius: 8px; padding: 1rem; display: grid; gap: 0.7rem;
         grid-template-columns: max-content 1fr; align-items: center; }
  form button { grid-column: 2; justify-self: start; padding: 0.45rem 1.2rem; font-size: 1rem; cursor: pointer; }
  #status { margin: 1rem 0; min-height: 1.4rem; }
  #status.error { color: #b00020; font-weight: 600; }
  #timeline { max-width: 100%; display: none; border: 1px solid #eee; margin: 0.5rem 0 1rem; }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3rem 0.5rem; text-align: right; }
  th { background: #f6f6f6; }
  td.text, th.text, td.label, td.mods { text-align: left; }
  td.label { font-weight: 600; }
  .hint { color: #666; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>emorec</h1>
<p class="sub">Upload a video clip to see the emotion of each utterance: face, voice and words (from subtitles, or heard by speech recognition).</p>
<form id="upload">
  <label for="video">Video</label>
  <input id="video" name="video" type="file" accept="video/*,.mp4,.mkv,.avi,.mov,.flv,.webm" required>
  <label for="subtitles">Subtitles (optional)</label>
  <input id="subtitles" name="subtitles" type="file" accept=".srt,.vtt,.json,.csv">
  <label for="side">Speaker side</label>
  <select id="side" name="speaker_side">
    <option value="auto" selected>auto (largest face)</option>
    <option value="left">left half</option><option value="right">right half</option>
    <option value="full">full frame</option>
  </select>
  <label for="window">Window (s, optional)</label>
  <input id="window" name="window" type="number" min="0.5" step="0.5" placeholder="speech detection when empty">
  <button id="submit" type="submit">Recognise emotions</button>
</form>
<p class="hint" id="limits"></p>
<div id="status" role="status"></div>
<img id="timeline" alt="emotion timeline">
<table id="segments" hidden>
  <thead><tr id="head"></tr></thead>
  <tbody id="rows"></tbody>
</table>
<script>
(function () {
  const form = document.getElementById("upload");
  const status = document.getElementById("status");
  const img = document.getElementById("timeline");
  const table = document.getElementById("segments");
  const head = document.getElementById("head");
  const rows = document.getElementById("rows");
  const button = document.getElementById("submit");

  fetch("health").then(r => r.json()).then(h => {
    document.getElementById("limits").textContent =
      "Limits: " + h.max_upload_mb + " MB, " + h.max_duration_s + " s. Classes: " + h.classes.join(", ") + ".";
  }).catch(() => {});

  function setStatus(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }
  function cell(tr, text, cls, tag) {
    const td = document.createElement(tag || "td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function show(result) {
    head.innerHTML = "";
    rows.innerHTML = "";
    const trh = head;
    ["start", "end", "label"].forEach(h => cell(trh, h, h === "label" ? "text" : "", "th"));
    result.classes.forEach(c => cell(trh, c, "", "th"));
    cell(trh, "modalities", "text", "th");
    cell(trh, "text", "text", "th");
    result.segments.forEach(s => {
      const tr = document.createElement("tr");
      tr.className = "segment";
      cell(tr, s.start.toFixed(2));
      cell(tr, s.end.toFixed(2));
      cell(tr, s.label, "label");
      result.classes.forEach(c => cell(tr, (s.probs[c] || 0).toFixed(3)));
      cell(tr, s.modalities.join("+"), "mods");
      cell(tr, s.text || "", "text");
      rows.appendChild(tr);
    });
    table.hidden = false;
    img.src = "data:image/png;base64," + result.timeline_png;
    img.style.display = "block";
    setStatus(result.segments.length + " segment(s) in " + result.duration.toFixed(1) + " s of video ("
              + result.elapsed_s.toFixed(1) + " s to compute).", false);
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData();
    const video = document.getElementById("video").files[0];
    if (!video) { setStatus("Choose a video file first.", true); return; }
    data.append("video", video);
    const subs = document.getElementById("subtitles").files[0];
    if (subs) data.append("subtitles", subs);
    data.append("speaker_side", document.getElementById("side").value);
    const win = document.getElementById("window").value;
    if (win) data.append("window", win);
    button.disabled = true;
    table.hidden = true;
    img.style.display = "none";
    setStatus("Analysing " + video.name + " ...", false);
    try {
      const resp = await fetch("predict", { method: "POST", body: data });
      const body = await resp.json().catch(() => ({ detail: resp.statusText }));
      if (!resp.ok) {
        const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
        setStatus("Error " + resp.status + ": " + detail, true);
      } else {
        show(body);
      }
    } catch (e) {
      setStatus("Request failed: " + e, true);
    } finally {
      button.disabled = false;
    }
  });
})();
</script>
</body>
</html>
"""
