// dubkit review: the page's draft, the player and the cue list. Every rule (counts, reading
// speed, frames, glossary) is the server's: the page sends the draft and shows what comes back.
// Text from the programme is only ever set as text (textContent, append of strings, value).
"use strict";
(() => {
  const token = document.querySelector('meta[name="dubkit-token"]').content;
  const $ = (id) => document.getElementById(id);
  const video = $("video"), overlay = $("overlay"), rows = $("rows"), wave = $("wave");
  let state = null; // the programme as loaded: version, profile, codes, notes
  let draft = []; // the cues: key, start_ms, end_ms, ur, approved and their checks
  let current = -1; // the selected cue
  let shown = -1; // the cue under the play head
  let stopAt = null; // where "play cue" pauses, ms
  let dirty = false;
  let sent = 0; // checks asked for; an answer older than the last is dropped
  let levels = null; // the waveform: {step_ms, levels}
  const carets = new Map(); // cue index -> cursor position in its Urdu

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    node.append(...children); // strings become text nodes, never HTML
    return node;
  }

  async function api(path, body) {
    const options = { headers: { "X-Dubkit-Token": token } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  const wire = (c) => ({ key: c.key, start_ms: c.start_ms, end_ms: c.end_ms, ur: c.ur,
                         approved: c.approved });

  function say(text) { $("status").textContent = text; }

  function alarm(text, kind = "error", reload = false) { // kind: error or notice
    $("banner-text").textContent = text;
    $("banner").className = kind;
    $("banner").hidden = !text;
    $("reload").hidden = !reload;
  }

  async function load() {
    state = await api("/api/programme");
    draft = state.cues;
    dirty = false;
    alarm("");
    $("notes").replaceChildren(...state.notes.map((n) => el("li", {}, n)));
    if (state.media && !video.getAttribute("src")) {
      video.src = "/media?token=" + encodeURIComponent(token);
      api("/api/waveform").then((w) => { levels = w; drawWave(); }).catch(() => {});
    }
    render();
    summary(state.summary);
    if (current >= draft.length) current = draft.length - 1;
  }

  function summary(s) {
    const counts = Object.entries(s.counts).map(([code, n]) => `${code} ${n}`).join(", ");
    $("summary").textContent =
      `${s.cues} cues, ${s.flagged} flagged${counts ? " (" + counts + ")" : ""}` +
      (state.glossary ? ` · glossary: ${state.glossary}` : "") + (dirty ? " · unsaved" : "");
  }

  // ------------------------------------------------------------------------- the list

  function render() {
    carets.clear(); // the rows are new (a merge or split moves every index below it)
    rows.replaceChildren(...draft.map((cue, i) => row(cue, i)));
    for (const area of rows.querySelectorAll("textarea")) fit(area);
    highlight();
  }

  function fit(area) { // as tall as its lines: Nastaliq needs the room
    area.style.height = "auto";
    area.style.height = `${area.scrollHeight + 2}px`;
  }

  function button(label, title, action) {
    const b = el("button", { type: "button", title }, label);
    b.addEventListener("click", (e) => { e.stopPropagation(); action(); });
    return b;
  }

  function row(cue, i) {
    const area = el("textarea", { dir: "rtl", lang: "ur", rows: "2", "aria-label": `Urdu ${i + 1}` });
    area.value = cue.ur;
    area.addEventListener("focus", () => { select(i, false); if (!inside(i)) seek(i); });
    area.addEventListener("input", () => {
      cue.ur = area.value;
      dirty = true;
      fit(area);
      showOverlay(true);
      recheck();
    });
    for (const kind of ["keyup", "click", "select"]) {
      area.addEventListener(kind, () => carets.set(i, area.selectionStart));
    }
    const time = el("td", { class: "time" },
      button("−", "In a frame earlier (Alt+[)", () => nudge(i, "start", -1)),
      el("span", { class: "in" }, cue.in),
      button("+", "In a frame later (Alt+])", () => nudge(i, "start", 1)), el("br"),
      button("−", "Out a frame earlier (Alt+{)", () => nudge(i, "end", -1)),
      el("span", { class: "out" }, cue.out),
      button("+", "Out a frame later (Alt+})", () => nudge(i, "end", 1)));
    const tr = el("tr", { class: "cue", "data-index": String(i) },
      el("td", { class: "num" }, String(i + 1)), time,
      el("td", { class: "zh", lang: "zh-Hans" }, cue.zh),
      el("td", { class: "en", lang: "en" }, cue.en),
      el("td", { class: "ur" }, area, el("div", { class: "counts" })),
      el("td", { class: "terms" }), el("td", { class: "checks" }),
      el("td", { class: "actions" },
        button("Split", "Split at the cursor (or the middle)", () => splitCue(i)),
        button("Merge ↓", "Merge with the next cue", () => edit({ op: "merge", index: i })),
        state.memory === false ? "" :
          button("✓", "Approve this line for the translation memory (Alt+A)", () => approve(i))));
    tr.addEventListener("click", (e) => { if (e.target.tagName !== "TEXTAREA") { select(i); seek(i); } });
    fill(tr, cue);
    return tr;
  }

  function fill(tr, cue) {
    const p = state.profile;
    const counts = tr.querySelector(".counts");
    const parts = cue.line_chars.map((n) =>
      el("span", { class: n > p.max_chars_per_line ? "over" : "" }, `${n}/${p.max_chars_per_line}`));
    const cps = cue.cps === null ? "∞" : cue.cps.toFixed(1);
    const fast = p.max_cps !== null && (cue.cps === null || cue.cps > p.max_cps);
    parts.push(el("span", { class: fast ? "over" : "" },
      `${cps}${p.max_cps !== null ? "/" + p.max_cps : ""} cps`));
    counts.replaceChildren(...parts.flatMap((x, k) => (k ? [" · ", x] : [x])));
    tr.querySelector(".terms").replaceChildren(...cue.terms.map((t) =>
      el("span", { class: "term " + (t.found ? "found" : "missing"),
                   title: `${t.zh}: ${t.found ? "approved Urdu present" : "approved Urdu missing"}` },
        t.found ? "✓ " : "✗ ", el("span", { class: "ur", lang: "ur", dir: "rtl" }, t.approved))));
    tr.querySelector(".checks").replaceChildren(...cue.flags.map((f) =>
      el("span", { class: "flag", title: f.reason }, f.code)));
    tr.querySelector(".in").textContent = cue.in;
    tr.querySelector(".out").textContent = cue.out;
    tr.classList.toggle("flagged", cue.flags.length > 0);
    tr.classList.toggle("approved", cue.approved);
    tr.classList.toggle("edited", cue.edited);
  }

  function recheck() {
    const mine = ++sent;
    setTimeout(async () => {
      if (mine !== sent) return; // typed again since: only the last counts
      try {
        const data = await api("/api/check", { cues: draft.map(wire) });
        if (mine !== sent) return;
        data.cues.forEach((checked, i) => {
          Object.assign(draft[i], checked, { ur: draft[i].ur });
          fill(rows.children[i], draft[i]);
        });
        summary(data.summary);
      } catch (error) { alarm(error.message); }
    }, 150);
  }

  async function edit(op) {
    sent++; // a check still on its way is of the draft before this edit
    try {
      const data = await api("/api/edit", { cues: draft.map(wire), ...op });
      draft = data.cues;
      dirty = true;
      render();
      summary(data.summary);
      select(Math.min(op.index, draft.length - 1), false);
      showOverlay(true);
      drawWave();
    } catch (error) { alarm(error.message); }
  }

  function nudge(i, edge, frames) { edit({ op: "nudge", index: i, edge, frames }); }

  function splitCue(i) {
    const t = Math.round(video.currentTime * 1000);
    const op = { op: "split", index: i };
    if (carets.has(i)) op.at_char = carets.get(i);
    if (t > draft[i].start_ms && t < draft[i].end_ms) op.at_ms = t;
    carets.delete(i);
    edit(op);
  }

  function approve(i) {
    if (i < 0 || state.memory === false) return; // --no-memory: nothing is approved
    draft[i].approved = !draft[i].approved;
    dirty = true;
    fill(rows.children[i], draft[i]);
  }

  // ------------------------------------------------------------------ selection, player

  function select(i, scroll = true) {
    if (i < 0 || i >= draft.length) return;
    current = i;
    highlight();
    if (scroll) rows.children[i].scrollIntoView({ block: "nearest" });
  }

  function highlight() {
    for (const tr of rows.children) {
      const i = Number(tr.dataset.index);
      tr.classList.toggle("selected", i === current);
      tr.classList.toggle("playing", i === shown);
    }
  }

  function inside(i) {
    const t = video.currentTime * 1000;
    return t >= draft[i].start_ms && t < draft[i].end_ms;
  }

  function seek(i) {
    if (i < 0 || i >= draft.length) return;
    video.currentTime = draft[i].start_ms / 1000;
    showOverlay(true);
  }

  function playCue(i) {
    if (i < 0) return;
    seek(i);
    stopAt = draft[i].end_ms;
    video.play().catch(() => {});
  }

  function cueAt(ms) {
    for (let i = 0; i < draft.length; i++) {
      if (ms + 0.5 >= draft[i].start_ms && ms < draft[i].end_ms) return i;
    }
    return -1;
  }

  function showOverlay(force) {
    const ms = video.currentTime * 1000;
    $("clock").textContent = `${(ms / 1000).toFixed(3)} s`;
    if (stopAt !== null && ms >= stopAt) { video.pause(); stopAt = null; }
    const i = cueAt(ms);
    if (i !== shown || force) {
      const lines = i < 0 ? [] : draft[i].ur.split("\n").filter((x) => x.trim());
      overlay.replaceChildren(...lines.map((x) => el("div", {}, x)));
      const moved = i !== shown;
      shown = i;
      highlight();
      const editing = document.activeElement && document.activeElement.tagName === "TEXTAREA";
      if (moved && i >= 0 && !editing && !video.paused) rows.children[i].scrollIntoView({ block: "nearest" });
    }
    drawWave();
  }

  function tick() {
    showOverlay(false);
    if (!video.paused) requestAnimationFrame(tick);
  }

  video.addEventListener("play", () => { $("play").textContent = "Pause"; requestAnimationFrame(tick); });
  video.addEventListener("pause", () => { $("play").textContent = "Play"; showOverlay(false); });
  video.addEventListener("seeked", () => showOverlay(true));
  video.addEventListener("timeupdate", () => showOverlay(false));
  $("play").addEventListener("click", () => (video.paused ? video.play().catch(() => {}) : video.pause()));
  $("play-cue").addEventListener("click", () => playCue(current < 0 ? 0 : current));

  function drawWave() {
    const ctx = wave.getContext("2d");
    const w = (wave.width = wave.clientWidth || 640), h = wave.height;
    ctx.clearRect(0, 0, w, h);
    const total = levels ? levels.levels.length * levels.step_ms : (video.duration || 0) * 1000;
    if (!total) return;
    const x = (ms) => (ms / total) * w;
    draft.forEach((c, i) => {
      ctx.fillStyle = i === current ? "rgba(30,136,229,0.35)" : c.flags.length ? "rgba(255,152,0,0.25)" : "rgba(120,144,156,0.2)";
      ctx.fillRect(x(c.start_ms), 0, Math.max(1, x(c.end_ms) - x(c.start_ms)), h);
    });
    if (levels) {
      ctx.fillStyle = "#37474f";
      const per = levels.levels.length / w;
      for (let col = 0; col < w; col++) {
        let top = -100;
        for (let k = Math.floor(col * per); k < Math.floor((col + 1) * per) || k === Math.floor(col * per); k++) {
          if (k < levels.levels.length) top = Math.max(top, levels.levels[k]);
        }
        const bar = Math.max(0, (top + 60) / 60) * (h / 2);
        ctx.fillRect(col, h / 2 - bar, 1, 2 * bar);
      }
    }
    ctx.fillStyle = "#d32f2f";
    ctx.fillRect(x(video.currentTime * 1000), 0, 2, h);
  }

  wave.addEventListener("click", (e) => {
    const total = levels ? levels.levels.length * levels.step_ms : (video.duration || 0) * 1000;
    if (!total) return;
    video.currentTime = (e.offsetX / wave.clientWidth) * total / 1000;
    const i = cueAt(video.currentTime * 1000);
    if (i >= 0) select(i);
  });

  // ------------------------------------------------------------------------ keyboard

  document.addEventListener("keydown", (e) => {
    const typing = document.activeElement && document.activeElement.tagName === "TEXTAREA";
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "s") { e.preventDefault(); save(); return; }
    if (e.altKey) {
      const moves = { ArrowDown: 1, ArrowUp: -1 };
      if (e.key in moves) { e.preventDefault(); go(current + moves[e.key], typing); }
      else if (e.code === "KeyP") { e.preventDefault(); playCue(current); }
      else if (e.code === "KeyA") { e.preventDefault(); approve(current); }
      else if (e.code === "BracketLeft" || e.code === "BracketRight") {
        e.preventDefault();
        if (current >= 0) nudge(current, e.shiftKey ? "end" : "start", e.code === "BracketLeft" ? -1 : 1);
      }
      return;
    }
    if (typing || e.ctrlKey || e.metaKey) return;
    if (key === "j" || e.key === "ArrowDown") { e.preventDefault(); go(current + 1, false); }
    else if (key === "k" || e.key === "ArrowUp") { e.preventDefault(); go(current - 1, false); }
    else if (e.key === " ") { e.preventDefault(); video.paused ? playCue(current) : video.pause(); }
    else if (key === "a") approve(current);
    else if (e.key === "Enter" && current >= 0) { e.preventDefault(); rows.children[current].querySelector("textarea").focus(); }
  });

  function go(i, focus) {
    if (i < 0 || i >= draft.length) return;
    select(i);
    seek(i);
    if (focus) rows.children[i].querySelector("textarea").focus();
  }

  // ---------------------------------------------------------------------------- save

  async function save() {
    say("saving…");
    try {
      const result = await api("/api/save", { version: state.version, cues: draft.map(wire) });
      await load();
      say(`saved ${result.saved.length} files: ${result.changed} changed, ` +
          `${result.approved} approved in the translation memory`);
      $("status").title = result.saved.join("\n");
      if (result.notes.length) alarm(result.notes.join(" · "), "notice");
    } catch (error) {
      say("not saved");
      alarm(error.message, "error", error.status === 409);
    }
  }

  $("save").addEventListener("click", save);
  $("reload").addEventListener("click", () => {
    if (!dirty || confirm("Reload the files from disk? Your unsaved changes will be lost.")) {
      load().catch((error) => alarm(error.message));
    }
  });
  window.addEventListener("beforeunload", (e) => { if (dirty) e.preventDefault(); });
  window.addEventListener("resize", drawWave);

  load().catch((error) => alarm(error.message));
})();
