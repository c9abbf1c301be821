// Live view: draws kernel frames (JPEG/PNG in binary buffers) on a canvas and acknowledges them;
// direct.js paints natively decoded WebRTC frames on the same canvas through drawDirect.
// Latest wins in the browser too: while one frame decodes, only the newest arrival waits;
// superseded frames are freed by the ack of the newer frame, so the kernel's window never stalls.

import { createCodeCover } from "./codecover.js";

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} root
 * @param {object} debug
 */
export function createView(model, root, debug) {
  const wrap = document.createElement("div");
  wrap.className = "rn-view";
  const canvas = document.createElement("canvas");
  canvas.className = "rn-canvas";
  canvas.width = 640;
  canvas.height = 384;
  const placeholder = document.createElement("div");
  placeholder.className = "rn-placeholder";
  placeholder.textContent = "waiting for frames…";
  wrap.append(canvas, placeholder);
  root.append(wrap);
  const ctx = canvas.getContext("2d", { alpha: false });
  const codeCover = createCodeCover(model, wrap, canvas);

  let decoding = false;
  let pending = null; // {msg, buffer}
  let closed = false;
  let visible = true;
  let held = null; // newest frame that arrived while this view was out of sight
  let lastCode = false; // whether the kernel's last frame carried the frame-index code
  let directSeq = 0;
  const drawTimes = [];

  function applySize() {
    const w = model.get("width"), h = model.get("height");
    canvas.style.width = w > 0 ? `${w}px` : "";
    canvas.style.height = h > 0 ? `${h}px` : "";
    canvas.style.objectFit = model.get("fit") || "contain";
    wrap.classList.toggle("rn-fixed", w > 0 || h > 0);
    if (codeCover) codeCover.place();
  }
  applySize();

  // Acks are coalesced: one message per ACK_EVERY frames (or after ACK_DELAY_MS for a lone
  // frame) acknowledges the newest frame and, implicitly, every older one (the kernel frees
  // them), with `n` = frames it covers. In Jupyter each comm message also costs two kernel
  // status messages that the page must process, so this halves the page's message load.
  const ACK_EVERY = 2;
  const ACK_DELAY_MS = 60;
  let unacked = null;
  let unackedCount = 0;
  let ackTimer = null;

  function flushAck() {
    if (ackTimer) clearTimeout(ackTimer);
    ackTimer = null;
    if (!unacked || closed) return;
    const { msg, drawn, extra } = unacked;
    model.send({ type: "ack", id: msg.id, drawn, n: unackedCount, ...extra });
    unacked = null;
    unackedCount = 0;
  }

  function ack(msg, drawn, extra = {}) {
    unacked = { msg, drawn, extra };
    unackedCount += 1;
    if (unackedCount >= ACK_EVERY) flushAck();
    else if (!ackTimer) ackTimer = setTimeout(flushAck, ACK_DELAY_MS);
  }

  async function decode(msg, buffer) {
    const blob = new Blob([buffer], { type: msg.mime || "image/jpeg" });
    if (typeof createImageBitmap === "function") {
      return await createImageBitmap(blob);
    }
    const url = URL.createObjectURL(blob);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function paint(img, msg, decodeMs, received) {
    const resized = canvas.width !== msg.width || canvas.height !== msg.height;
    if (canvas.width !== msg.width) canvas.width = msg.width;
    if (canvas.height !== msg.height) canvas.height = msg.height;
    ctx.drawImage(img, 0, 0, msg.width, msg.height);
    const ms = decodeMs();
    placeholder.style.display = "none";
    const now = Date.now();
    drawTimes.push(performance.now());
    while (drawTimes.length && drawTimes[0] < performance.now() - 2000) drawTimes.shift();
    debug.onDrawn(msg, now, ms, received);
    if (debug.hook) debug.hook(canvas, msg, now); // benchmarks read the frame index code here
    codeCover.onDrawn(msg, resized);
    return ms;
  }

  async function pumpLoop() {
    decoding = true;
    while (pending && !closed) {
      const { msg, buffer, received } = pending;
      pending = null;
      let drawn = false;
      let decodeMs = null;
      try {
        const t0 = performance.now();
        const img = await decode(msg, buffer);
        if (closed) break;
        lastCode = !!msg.code;
        decodeMs = paint(img, msg, () => performance.now() - t0, received);
        if (img.close) img.close();
        drawn = true;
      } catch (err) {
        debug.decodeErrors += 1;
        debug.lastDecodeError = String(err);
      }
      ack(msg, drawn, { decode_ms: decodeMs });
    }
    decoding = false;
  }

  function onFrame(msg, buffers) {
    const buffer = buffers && buffers[0];
    if (!buffer) return ack(msg, false);
    debug.received += 1;
    if (!visible) {
      // Out of sight (another view of this widget is on screen): no decode and no ack, so the
      // visible view's acks alone pace the kernel. Keep the newest frame to draw on return.
      held = { msg, buffer, received: Date.now() };
      debug.hiddenSkipped += 1;
      return;
    }
    if (pending) {
      debug.superseded += 1; // no ack of its own: the ack of a newer frame frees it in the kernel
    }
    pending = { msg, buffer, received: Date.now() };
    if (!decoding) pumpLoop();
  }

  return {
    canvas,
    onFrame,
    applySize,
    renderCode: () => codeCover.render(),
    fpsShown() {
      const now = performance.now();
      const recent = drawTimes.filter((t) => t >= now - 2000);
      return recent.length / 2;
    },
    // a frame the browser decoded itself (direct.js): drawn like a kernel frame, nothing to ack
    drawDirect(source, width, height) {
      if (closed || !visible || !width || !height) return;
      directSeq += 1;
      paint(source, { direct: true, seq: directSeq, width, height, code: lastCode }, () => null, Date.now());
    },
    setVisible(on) {
      visible = on;
      if (on && held) {
        const h = held;
        held = null;
        if (!pending) pending = h;
        if (!decoding) pumpLoop();
      }
    },
    close() {
      if (ackTimer) clearTimeout(ackTimer);
      closed = true;
      pending = null;
      codeCover.close();
      held = null;
    },
  };
}
