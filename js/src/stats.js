// Stats overlay: what the page measured (fps drawn, kernel→screen latency), the session's WebRTC
// numbers (rtt, jitter, packet loss, frame age, fps received) and the kernel's pump stats (sent,
// dropped, ack round trip, quality), the last two from the `stats` trait.

function pct(values, q) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((q / 100) * s.length))];
}

function num(v, digits, unit) {
  return typeof v === "number" && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : "–";
}

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} viewWrap
 * @param {object} debug
 * @param {() => number} fpsShown
 * @param {() => Object<string, *>} [live]  figures of the direct view (direct.js), if any
 */
export function createStats(model, viewWrap, debug, fpsShown, live = () => ({})) {
  const box = document.createElement("div");
  box.className = "rn-stats";
  viewWrap.append(box);

  function render() {
    const on = !!model.get("show_stats");
    box.style.display = on ? "" : "none";
    if (!on) return;
    const k = { ...(model.get("stats") || {}), ...live() }; // live: the direct view's own WebRTC numbers
    const lat = debug.latencies.slice(-120);
    const p50 = pct(lat, 50);
    const p95 = pct(lat, 95);
    const rows = [
      ["fps shown", fpsShown().toFixed(1)],
      ["fps received", k.fps_received != null ? Number(k.fps_received).toFixed(1) : "–"],
      ["latency p50/p95", p50 != null ? `${p50.toFixed(0)} / ${p95.toFixed(0)} ms` : "–"],
      ["rtt (WebRTC)", num(k.rtt_ms, 0, " ms")],
      ["jitter", num(k.jitter_ms, 1, " ms")],
      ["packet loss", k.packet_loss_ratio != null ? `${(100 * k.packet_loss_ratio).toFixed(2)} %` : "–"],
      ["frame age", num(k.frame_age_ms, 1, " ms")],
      ["ack rtt p50", k.ack_ms_p50 != null ? `${k.ack_ms_p50} ms` : "–"],
      ["dropped", k.dropped != null ? `${k.dropped} (${k.lost ?? 0} lost)` : "–"],
      ["kB/s", k.bytes_per_s != null ? (k.bytes_per_s / 1024).toFixed(0) : "–"],
      ["path", k.view_path === "direct" ? "direct WebRTC" : "kernel JPEG"],
      ["jpeg", k.view_path === "direct" ? "off" : k.quality != null ? `q${k.quality}${k.scale < 1 ? ` ×${k.scale}` : ""} ${k.encoder || ""}` : "–"],
    ];
    box.replaceChildren(
      ...rows.map(([a, b]) => {
        const r = document.createElement("div");
        r.dataset.stat = a;
        const ka = document.createElement("span");
        ka.textContent = a;
        const vb = document.createElement("b");
        vb.textContent = b;
        r.append(ka, vb);
        return r;
      }),
    );
  }
  const timer = setInterval(render, 500);
  render();
  return { render, close: () => clearInterval(timer) };
}
