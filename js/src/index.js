// ReactorWidget front end (anywidget ESM). The kernel decides what to send and when; this
// module draws, acknowledges and forwards user actions. The messages and the model's traits are
// typed in messages.js (JSDoc) and reactor_notebook/widget/messages.py.

import { createCommands } from "./commands.js";
import { createDirect } from "./direct.js";
import { createForms } from "./forms.js";
import { createStats } from "./stats.js";
import { createStatus } from "./status.js";
import { createTimeline } from "./timeline.js";
import { createView } from "./view.js";
import { createWebcam } from "./webcam.js";

function newDebug() {
  return {
    received: 0,
    drawn: 0,
    superseded: 0,
    hiddenSkipped: 0,
    decodeErrors: 0,
    lastDecodeError: null,
    lastId: null,
    lastSeq: null,
    latencies: [],
    frames: [], // recent {id, seq, index, sent_at, drawn_at, decode_ms}
    hook: null, // optional (canvas, msg, drawnAtMs) => void, set by benchmarks and tests
    webcamSent: 0,
    webcamAcked: 0,
    onDrawn(msg, now, decodeMs) {
      this.drawn += 1;
      this.lastId = msg.id;
      this.lastSeq = msg.seq;
      if (typeof msg.sent_at === "number") {
        this.latencies.push(now - msg.sent_at);
        if (this.latencies.length > 600) this.latencies.splice(0, this.latencies.length - 600);
      }
      this.frames.push({ id: msg.id, seq: msg.seq, index: msg.index, sent_at: msg.sent_at, drawn_at: now, decode_ms: decodeMs, perf: performance.now() });
      if (this.frames.length > 600) this.frames.splice(0, this.frames.length - 600);
    },
  };
}

/**
 * @param {{model: import("./messages.js").ReactorModel, el: HTMLElement}} props
 */
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "rn-root";
  el.append(root);
  const debug = newDebug();
  const send = (content, buffers) => model.send(content, undefined, buffers);

  const status = createStatus(model, root, send);
  const view = createView(model, root, debug);
  let direct = null; // the direct WebRTC view (direct.js), created once the view id exists
  const stats = createStats(model, view.canvas.parentElement, debug, () => view.fpsShown(), () => (direct ? direct.stats() : {}));
  const webcam = createWebcam(model, root, send, debug);
  const commands = createCommands(); // one book of command ids for the buttons and the forms
  const timeline = createTimeline(model, root, send, commands);
  const forms = createForms(model, root, send, commands);

  const statsToggle = document.createElement("button");
  statsToggle.className = "rn-btn rn-stats-toggle";
  statsToggle.textContent = "stats";
  statsToggle.title = "show fps / latency overlay";
  statsToggle.addEventListener("click", () => {
    model.set("show_stats", !model.get("show_stats"));
    model.save_changes();
  });
  status.tools.append(statsToggle);

  function applyFormsVisibility() {
    const on = model.get("show_forms");
    root.querySelector(".rn-forms").style.display = on ? "" : "none";
  }
  applyFormsVisibility();

  /**
   * @param {import("./messages.js").KernelMessage} msg
   * @param {DataView[]} buffers
   */
  const onMsg = (msg, buffers) => {
    switch (msg && msg.type) {
      case "frame": // while direct frames are shown, kernel frames still in flight are only acked
        return view.onFrame(msg, direct && direct.active ? null : buffers);
      case "command_result":
        commands.onResult(msg);
        return;
      case "retry_result":
        return status.onRetryResult(msg);
      case "webcam_state":
        return webcam.onState(msg);
      case "webcam_ack":
        return webcam.onAck(msg);
    }
  };
  const handlers = [
    ["msg:custom", onMsg],
    ["change:status change:session_id change:last_error change:model_name change:kernel_subshells change:shared_clients", () => {
      status.render();
      timeline.render();
      webcam.render();
    }],
    ["change:commands change:profile", () => {
      forms.render();
      timeline.render();
    }],
    ["change:model_state", () => {
      timeline.render();
      forms.onState();
    }],
    ["change:model_error", () => {
      timeline.renderError();
      forms.showModelError();
    }],
    ["change:input_tracks", () => webcam.render()],
    ["change:width change:height change:fit", () => view.applySize()],
    ["change:show_stats change:stats", () => stats.render()],
    ["change:show_forms", applyFormsVisibility],
    ["change:show_index_code", () => view.renderCode()],
  ];
  for (const [evs, fn] of handlers) for (const ev of evs.split(" ")) model.on(ev, fn);

  const registry = (globalThis.__reactorWidgets = globalThis.__reactorWidgets || []);
  const entry = { el: root, canvas: view.canvas, debug, model };
  registry.push(entry);
  root.__reactor = entry;

  // Tell the kernel when this view can be seen, so it encodes nothing for hidden tabs or cleared outputs.
  const viewId = Math.random().toString(36).slice(2, 10);
  send({ type: "ready", view: viewId });
  direct = createDirect(model, view, send, viewId);
  entry.direct = direct.state;
  let visible = true;
  const io =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          const now = entries[entries.length - 1].isIntersecting;
          if (now !== visible) {
            visible = now;
            view.setVisible(visible);
            direct.setVisible(visible);
            send({ type: "visibility", view: viewId, visible });
          }
        })
      : null;
  if (io) io.observe(root);

  return () => {
    if (io) io.disconnect();
    try {
      send({ type: "view_closed", view: viewId });
    } catch (e) {
      // the widget itself is closing: nobody to tell
    }
    for (const [evs, fn] of handlers) for (const ev of evs.split(" ")) model.off(ev, fn);
    direct.close();
    view.close();
    stats.close();
    webcam.close();
    const i = registry.indexOf(entry);
    if (i >= 0) registry.splice(i, 1);
  };
}

export default { render };
