// The model profile's niceties: transport buttons that follow the state, a state line and a
// prompt lane around the current chunk, all labelled from the `profile` trait (a model's
// ClientProfile in reactor_notebook/profiles). A model without a profile timeline shows only the
// model's refusals here.

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} root
 * @param {import("./messages.js").Send} send
 * @param {import("./commands.js").CommandBook} commands  where the buttons' results come back
 */
export function createTimeline(model, root, send, commands) {
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

  /** @returns {import("./messages.js").ProfileTimeline} */
  function timeline() {
    const profile = model.get("profile");
    return (profile && profile.timeline) || {};
  }

  function transportNames() {
    return (model.get("commands") || []).filter((c) => c.transport).map((c) => c.name);
  }

  function renderButtons() {
    const names = transportNames();
    const tl = timeline();
    const labels = tl.buttons || {};
    const sig = names.map((n) => `${n}=${labels[n] || n}`).join(",");
    if (transport.dataset.sig !== sig) {
      transport.dataset.sig = sig;
      transport.replaceChildren();
      buttons.clear();
      for (const name of names) {
        const b = document.createElement("button");
        b.className = `rn-btn rn-btn-${name}`;
        b.dataset.command = name;
        b.textContent = labels[name] || name;
        b.addEventListener("click", () => {
          const id = commands.add("tr", onResult);
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
      reset: !!started || Object.keys((tl.lane && st[tl.lane]) || {}).length > 0,
    };
    for (const [name, b] of buttons) {
      b.disabled = !ready || (name in enabled && !enabled[name]);
      b.classList.toggle("rn-active", (name === "start" && st.running && !st.paused) || (name === "pause" && st.paused));
    }
  }

  function renderState() {
    const st = model.get("model_state");
    const tl = timeline();
    if (!st || !Object.keys(st).length || !tl.state_line) {
      stateLine.textContent = "";
      lane.replaceChildren();
      return;
    }
    const modes = tl.modes || {};
    const flag = Object.keys(modes).find((key) => st[key]);
    const mode = flag ? modes[flag] : tl.idle || "";
    const bits = mode ? [mode] : [];
    for (const [key, shown] of Object.entries(tl.state_line)) {
      if (st[key] != null && st[key] !== "") bits.push(shown.replace("{}", String(st[key])));
    }
    stateLine.textContent = bits.join(" · ");
    stateLine.dataset.mode = mode;
    if (!tl.lane) {
      lane.replaceChildren();
      return;
    }

    const sched = st[tl.lane] || {};
    const chunks = Object.keys(sched).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
    const chunkKey = (model.get("profile") || {}).chunk_key;
    const cur = chunkKey && Number.isFinite(st[chunkKey]) ? st[chunkKey] : 0;
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

  // shown while it has buttons, a profile state line to draw or a refusal to report
  function showBox() {
    const hasState = !!timeline().state_line && Object.keys(model.get("model_state") || {}).length > 0;
    box.style.display = buttons.size || hasState || modelErr.style.display !== "none" ? "" : "none";
  }

  function renderError() {
    const raw = model.get("model_error");
    const err = raw && raw.message ? raw : null;
    modelErr.textContent = err ? `model rejected it: ${err.message}` : "";
    modelErr.style.display = err ? "" : "none";
    showBox();
  }

  /** @param {import("./messages.js").CommandResult} msg */
  function onResult(msg) {
    renderButtons();
    if (!msg.ok && msg.error) {
      modelErr.textContent = msg.error.message;
      modelErr.style.display = "";
      showBox();
    }
  }

  function render() {
    renderButtons();
    renderState();
    renderError();
  }
  render();
  return { render, renderError };
}
