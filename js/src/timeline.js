// Helios niceties: transport buttons (start/pause/resume/reset) that follow running/paused,
// and a prompt timeline of scheduled_prompts with the current chunk from model_state.

let nextId = 1;

export function createTimeline(model, root, send) {
  const box = document.createElement("div");
  box.className = "rn-helios";
  const transport = document.createElement("div");
  transport.className = "rn-transport";
  const stateLine = document.createElement("div");
  stateLine.className = "rn-state";
  const lane = document.createElement("div");
  lane.className = "rn-timeline";
  const modelErr = document.createElement("div");
  modelErr.className = "rn-model-error";
  modelErr.setAttribute("role", "alert");
  box.append(transport, stateLine, lane, modelErr);
  root.append(box);
  const buttons = new Map();
  const pending = new Map();

  function transportNames() {
    return (model.get("commands") || []).filter((c) => c.transport).map((c) => c.name);
  }

  function renderButtons() {
    const names = transportNames();
    const sig = names.join(",");
    if (transport.dataset.sig !== sig) {
      transport.dataset.sig = sig;
      transport.replaceChildren();
      buttons.clear();
      for (const name of names) {
        const b = document.createElement("button");
        b.className = `rn-btn rn-btn-${name}`;
        b.dataset.command = name;
        b.textContent = { start: "▶ start", pause: "❚❚ pause", resume: "▶ resume", reset: "↺ reset" }[name] || name;
        b.addEventListener("click", () => {
          const id = `tr-${nextId++}`;
          pending.set(id, name);
          b.disabled = true;
          send({ type: "command", id, name, args: {} });
        });
        buttons.set(name, b);
        transport.append(b);
      }
    }
    const st = model.get("model_state") || {};
    const ready = model.get("status") === "ready";
    const started = st.started ?? (st.running || st.paused || false);
    const enabled = {
      start: !started,
      pause: !!st.running && !st.paused && !st.pause_pending,
      resume: !!st.paused || !!st.pause_pending,
      reset: !!started || Object.keys(st.scheduled_prompts || {}).length > 0,
    };
    for (const [name, b] of buttons) {
      b.disabled = !ready || (name in enabled && !enabled[name]);
      b.classList.toggle("rn-active", (name === "start" && st.running && !st.paused) || (name === "pause" && st.paused));
    }
    const hasState = !!st && Object.keys(st).length > 0;
    box.style.display = names.length || hasState ? "" : "none";
  }

  function renderState() {
    const st = model.get("model_state");
    if (!st || !Object.keys(st).length) {
      stateLine.textContent = "";
      lane.replaceChildren();
      return;
    }
    const mode = st.paused ? "paused" : st.pause_pending ? "pausing at chunk end" : st.running ? "running" : st.started ? "started" : "idle";
    const bits = [mode];
    if (st.current_frame != null) bits.push(`frame ${st.current_frame}`);
    if (st.current_chunk != null) bits.push(`chunk ${st.current_chunk}`);
    if (st.seed != null) bits.push(`seed ${st.seed}`);
    if (st.current_prompt) bits.push(`“${st.current_prompt}”`);
    stateLine.textContent = bits.join(" · ");
    stateLine.dataset.mode = mode;

    const sched = st.scheduled_prompts || {};
    const chunks = Object.keys(sched).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
    const cur = Number.isFinite(st.current_chunk) ? st.current_chunk : 0;
    const last = Math.max(cur, chunks.length ? chunks[chunks.length - 1] : 0) + 3;
    const first = Math.max(0, Math.min(cur - 8, chunks.length ? chunks[0] : 0));
    const span = Math.min(last - first + 1, 48);
    const start = last - span + 1 > first ? last - span + 1 : first;
    lane.replaceChildren();
    const span0 = span;
    let active = null;
    for (let k = start; k < start + span; k++) {
      const cell = document.createElement("div");
      cell.className = "rn-chunk";
      cell.dataset.chunk = String(k);
      if (k in sched || String(k) in sched) {
        active = sched[String(k)];
        cell.classList.add("rn-scheduled");
        const tag = document.createElement("span");
        tag.className = "rn-chunk-prompt";
        tag.textContent = active;
        // the label runs over the cells until the next scheduled prompt, then ends in an ellipsis
        const next = chunks.find((c) => c > k);
        const span = Math.max(1, Math.min(next ?? start + span0, start + span0) - k);
        tag.style.width = `calc(${span * 100}% + ${span - 1}px - 4px)`;
        tag.title = `chunk ${k}: ${active}`;
        cell.append(tag);
      }
      if (active != null) cell.title = `chunk ${k}: ${active}`;
      else cell.title = `chunk ${k}`;
      if (st.started && k < cur) cell.classList.add("rn-past");
      if (st.started && k === cur) cell.classList.add("rn-current");
      lane.append(cell);
    }
  }

  function renderError() {
    const raw = model.get("model_error");
    const err = raw && raw.message ? raw : null;
    modelErr.textContent = err ? `model rejected it: ${err.message}` : "";
    modelErr.style.display = err ? "" : "none";
  }

  function onResult(msg) {
    const name = pending.get(msg.id);
    if (name === undefined) return false;
    pending.delete(msg.id);
    renderButtons();
    if (!msg.ok && msg.error) {
      modelErr.textContent = msg.error.message;
      modelErr.style.display = "";
    }
    return true;
  }

  function render() {
    renderButtons();
    renderState();
    renderError();
  }
  render();
  return { render, renderError, onResult };
}
