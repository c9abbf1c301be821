// JS29 interop page: drives the official @reactor-team/js-sdk 2.9.0 `Reactor` class in a plain page.
// The Python test calls window.js29.* through Playwright and reads the event log it keeps; nothing
// here re-implements the SDK, it only observes it (events, the <video> element, fetch statuses).
import { FileRef, Reactor } from "@reactor-team/js-sdk";

const BITS = 16;
const BLOCK = 16;
const log = [];
let reactor = null;
let video = null;
let fileRef = null; // the FileRef of the last upload, passed back into sendCommand
let webcam = null; // {canvas, timer} of a published canvas track
const frames = []; // {t, index, w, h} per presented video frame (bounded)

function push(ev, fields = {}) {
  log.push({ ev, t: performance.now(), ...fields });
}

function safe(value) {
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch (e) {
    return String(value);
  }
}

// Observe (never alter) the SDK's HTTP exchanges: method, path, status.
const realFetch = window.fetch.bind(window);
window.fetch = async (input, init = {}) => {
  const url = new URL(typeof input === "string" ? input : input.url);
  const method = (init.method || "GET").toUpperCase();
  try {
    const response = await realFetch(input, init);
    push("http", { method, path: url.pathname, status: response.status });
    return response;
  } catch (err) {
    push("http_failed", { method, path: url.pathname, error: String(err) });
    throw err;
  }
};

// Decode the 16-bit frame index code (top-left 256x16 px), as reactor_notebook.framecode.read_index.
const codeCanvas = document.createElement("canvas");
codeCanvas.width = BITS * BLOCK;
codeCanvas.height = BLOCK;
const codeCtx = codeCanvas.getContext("2d", { willReadFrequently: true });

function readIndex(source) {
  codeCtx.drawImage(source, 0, 0, BITS * BLOCK, BLOCK, 0, 0, BITS * BLOCK, BLOCK);
  const img = codeCtx.getImageData(0, 0, BITS * BLOCK, BLOCK).data;
  let value = 0;
  for (let bit = 0; bit < BITS; bit++) {
    const cx = BLOCK / 2 + BLOCK * bit;
    let sum = 0;
    for (let y = BLOCK / 2 - 2; y <= BLOCK / 2 + 2; y++) {
      const o = (y * BITS * BLOCK + cx) * 4;
      sum += img[o] + img[o + 1] + img[o + 2];
    }
    value = value * 2 + (sum / 15 > 127 ? 1 : 0);
  }
  return value;
}

function watchFrames(el) {
  const onFrame = () => {
    if (el.videoWidth > 0) {
      frames.push({ t: performance.now(), index: readIndex(el), w: el.videoWidth, h: el.videoHeight });
      if (frames.length > 2000) frames.splice(0, 1000);
    }
    el.requestVideoFrameCallback(onFrame);
  };
  el.requestVideoFrameCallback(onFrame);
}

window.js29 = {
  sdkVersion: "2.9.0",

  create({ apiUrl, local, modelName }) {
    const options = { modelName, local: !!local };
    if (apiUrl !== undefined && apiUrl !== null) options.apiUrl = apiUrl;
    reactor = new Reactor(options);
    reactor.on("statusChanged", (status) => push("status", { status }));
    reactor.on("sessionIdChanged", (id) => push("session_id", { session_id: id ?? null }));
    reactor.on("message", (message) => push("message", { message: safe(message) }));
    reactor.on("runtimeMessage", (message) => push("runtime_message", { message: safe(message) }));
    reactor.on("capabilitiesReceived", (caps) => push("capabilities", { caps: safe(caps) }));
    reactor.on("statsUpdate", (stats) => push("stats", { stats: safe(stats) }));
    reactor.on("error", (error) => push("error", { error: safe(error) }));
    reactor.on("trackReceived", (name, track, stream) => {
      push("track_received", { name, kind: track.kind });
      if (track.kind !== "video") return;
      video = document.getElementById("v");
      video.srcObject = stream;
      video.muted = true;
      video.play().catch((err) => push("play_failed", { error: String(err) }));
      watchFrames(video);
    });
    push("created", { options });
  },

  async connect(jwt) {
    try {
      await reactor.connect(jwt);
      push("connect_returned", { status: reactor.getStatus() });
    } catch (err) {
      push("connect_failed", { error: String(err) });
    }
  },

  async sendCommand(command, data, scope = "application") {
    await reactor.sendCommand(command, data, scope);
  },

  async disconnect(recoverable = false) {
    await reactor.disconnect(recoverable);
    push("disconnect_returned", { status: reactor.getStatus() });
  },

  async reconnect() {
    await reactor.reconnect();
    push("reconnect_returned", { status: reactor.getStatus() });
  },

  // publishTrack with a canvas-captured track (solid colour + frame code, redrawn at 15 fps).
  async publishCanvas(name, color) {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext("2d");
    let n = 0;
    const draw = () => {
      ctx.fillStyle = `rgb(${color[0]},${color[1]},${color[2]})`;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = n % 2 ? "#fff" : "#000";
      ctx.fillRect(0, 0, 16, 16);
      n += 1;
    };
    draw();
    const stream = canvas.captureStream(15);
    webcam = { canvas, timer: setInterval(draw, 66) };
    await reactor.publishTrack(name, stream.getVideoTracks()[0]);
    push("published", { name });
  },

  async unpublish(name) {
    if (webcam) clearInterval(webcam.timer);
    webcam = null;
    await reactor.unpublishTrack(name);
  },

  // uploadFile with a PNG drawn on a canvas; returns the FileRef's fields.
  async uploadPng(width, height, color) {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = `rgb(${color[0]},${color[1]},${color[2]})`;
    ctx.fillRect(0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const file = new File([blob], "reference.png", { type: "image/png" });
    fileRef = await reactor.uploadFile(file);
    if (!(fileRef instanceof FileRef)) throw new Error("uploadFile did not return a FileRef");
    return { uploadId: fileRef.uploadId, name: fileRef.name, mimeType: fileRef.mimeType, size: fileRef.size };
  },

  // sendCommand with the last FileRef under `key` (the SDK moves it into the `uploads` envelope).
  async sendWithUpload(command, data, key) {
    await reactor.sendCommand(command, { ...data, [key]: fileRef });
  },

  status() {
    return reactor ? reactor.getStatus() : null;
  },

  stats() {
    return safe(reactor ? reactor.getStats() : null);
  },

  events(since = 0) {
    return log.slice(since);
  },

  frames(since = 0) {
    return frames.filter((f) => f.t >= since);
  },

  // The current picture: size, playback state, frame code and RGB at a few probe points.
  sample(points = []) {
    if (!video || video.videoWidth === 0) return null;
    const w = video.videoWidth;
    const h = video.videoHeight;
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const px = points.map(([x, y]) => Array.from(ctx.getImageData(Math.min(x, w - 1), Math.min(y, h - 1), 1, 1).data.slice(0, 3)));
    return {
      w,
      h,
      index: readIndex(video),
      px,
      currentTime: video.currentTime,
      paused: video.paused,
      readyState: video.readyState,
    };
  },
};

push("loaded");
