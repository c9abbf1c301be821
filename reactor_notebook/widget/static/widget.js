/* reactor_notebook widget | source-sha256: c49b3219478a8864b1a93b6c14ec1c2e0973f2fc470d5efdbda091314898c4e5 | built from js/src by js/build.mjs; do not edit */

// src/commands.js
var nextId = 1;
function createCommands() {
  const pending = /* @__PURE__ */ new Map();
  return {
    add(prefix, onResult) {
      const id = `${prefix}-${nextId++}`;
      pending.set(id, onResult);
      return id;
    },
    drop(id) {
      pending.delete(id);
    },
    onResult(msg) {
      const done = pending.get(msg.id);
      if (done === void 0) return false;
      pending.delete(msg.id);
      done(msg);
      return true;
    }
  };
}

// src/direct.js
var PING_MS = 5e3;
var GATHER_MS = 5e3;
var ANSWER_WAIT_MS = 1e4;
var STALL_MS = 3e3;
var KERNEL_SILENT_MS = 15e3;
var HIDDEN_MS = 3e3;
var RETRY_MS = [5e3, 2e4];
var PING = JSON.stringify({ scope: "runtime", data: { type: "ping", data: {} } });
var HEADERS = {
  "Content-Type": "application/json",
  Authorization: "Bearer local",
  // the literal of local mode (no secret): a keyed runtime is never offered
  "Reactor-WebRTC-Version": "1.0"
};
var sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function call(method, url, body, signal) {
  const init = { method, headers: HEADERS, signal };
  if (body !== void 0) init.body = JSON.stringify(body);
  const res = await fetch(url, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  return { status: res.status, json, text };
}
function iceServers(json) {
  return (json && json.ice_servers || []).map((s) => ({
    urls: (s.uris || []).filter((u) => /^turns?:/.test(u)),
    ...s.credentials ? { username: s.credentials.username, credential: s.credentials.password } : {}
  })).filter((s) => s.urls.length);
}
function preferH264(tx) {
  const caps = typeof RTCRtpReceiver !== "undefined" && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities("video") : null;
  if (!caps || !tx.setCodecPreferences) return;
  const is = (c, m) => c.mimeType.toLowerCase() === m;
  const h264 = caps.codecs.filter((c) => is(c, "video/h264"));
  const vp8 = caps.codecs.filter((c) => is(c, "video/vp8"));
  const rest = caps.codecs.filter((c) => !h264.includes(c) && !vp8.includes(c));
  try {
    tx.setCodecPreferences([...h264, ...vp8, ...rest]);
  } catch (e) {
  }
}
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_MS);
  });
}
async function join(url, sid, track, signal, onState) {
  const base = `${url}/sessions/${encodeURIComponent(sid)}/transport/webrtc`;
  const ice = await call("GET", `${base}/ice_servers`, void 0, signal);
  if (ice.status !== 200) throw new Error(`ice_servers: HTTP ${ice.status}`);
  const pc = new RTCPeerConnection({ iceServers: iceServers(ice.json), bundlePolicy: "max-bundle" });
  try {
    const tx = pc.addTransceiver("video", { direction: "recvonly" });
    preferH264(tx);
    const data = pc.createDataChannel("data");
    let ping = null;
    data.onopen = () => {
      data.send(PING);
      ping = setInterval(() => data.readyState === "open" && data.send(PING), PING_MS);
    };
    data.onclose = () => ping && clearInterval(ping);
    pc.onconnectionstatechange = () => onState(pc.connectionState);
    const trackP = new Promise((resolve) => {
      pc.ontrack = (ev) => resolve(ev.track);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const reg = await call("POST", `${base}/connections`, { role: "viewer" }, signal);
    if (reg.status !== 201 || !reg.json) throw new Error(`connections: HTTP ${reg.status}`);
    const sdpUrl = `${base}/connections/${reg.json.connection_id}/sdp_params`;
    const offer = await call("POST", sdpUrl, {
      sdp_offer: pc.localDescription.sdp,
      client_info: { sdk_version: "reactor-notebook-direct-view", sdk_type: "js" },
      track_mapping: [{ mid: String(tx.mid), name: track, kind: "video", direction: "recvonly" }]
    }, signal);
    if (offer.status !== 202 && offer.status !== 200) throw new Error(`sdp_params: HTTP ${offer.status} ${offer.text}`);
    const deadline = performance.now() + ANSWER_WAIT_MS;
    let answer = null;
    for (let delay = 50; !answer; delay = Math.min(500, delay * 2)) {
      const got = await call("GET", sdpUrl, void 0, signal);
      if (got.status === 200 && got.json && got.json.sdp_answer) answer = got.json.sdp_answer;
      else if (got.status !== 202) throw new Error(`sdp answer: HTTP ${got.status} ${got.text}`);
      else if (performance.now() > deadline) throw new Error("no sdp answer in time");
      else await sleep(delay);
    }
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    video.srcObject = new MediaStream([await trackP]);
    return { pc, video, close: () => ping && clearInterval(ping) };
  } catch (err) {
    pc.close();
    throw err;
  }
}
function pickStats(report, prev, now) {
  let inbound = null, pair = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") inbound = s;
    if (s.type === "candidate-pair" && s.state === "succeeded" && (s.nominated || !pair)) pair = s;
  });
  if (!inbound) return { out: {}, snap: prev };
  const snap = {
    t: now,
    decoded: inbound.framesDecoded || 0,
    lost: inbound.packetsLost || 0,
    recv: inbound.packetsReceived || 0,
    jbDelay: inbound.jitterBufferDelay || 0,
    jbCount: inbound.jitterBufferEmittedCount || 0,
    decodeTime: inbound.totalDecodeTime || 0
  };
  const out = {
    rtt_ms: pair && pair.currentRoundTripTime != null ? pair.currentRoundTripTime * 1e3 : null,
    jitter_ms: inbound.jitter != null ? inbound.jitter * 1e3 : null,
    codec_fps: inbound.framesPerSecond ?? null
  };
  if (prev) {
    const dt = (now - prev.t) / 1e3;
    const dDec = snap.decoded - prev.decoded;
    const dLost = snap.lost - prev.lost, dRecv = snap.recv - prev.recv;
    const dJb = snap.jbCount - prev.jbCount;
    out.fps_received = dt > 0 ? dDec / dt : null;
    out.packet_loss_ratio = dLost + dRecv > 0 ? Math.max(0, dLost) / (dLost + dRecv) : null;
    out.frame_age_ms = dJb > 0 && dDec > 0 ? 1e3 * (snap.jbDelay - prev.jbDelay) / dJb + 1e3 * (snap.decodeTime - prev.decodeTime) / dDec : null;
  }
  return { out, snap };
}
function createDirect(model, view, send, viewId) {
  let conn = null;
  let key = null;
  let path = "jpeg";
  let attempts = 0;
  let retryTimer = null;
  let abort = null;
  let closed = false;
  let lastFrame = 0;
  let statsSnap = null;
  let lastDecoded = { n: -1, t: 0 };
  let live = {};
  let visible = true;
  let hiddenSince = null;
  let kernelSeen = performance.now();
  let arm = 0;
  const state = { path: "jpeg", error: null, frames: 0, attempts: 0, reader: null };
  function setPath(p) {
    if (p === path) return;
    path = state.path = p;
    try {
      send({ type: "view_path", view: viewId, path: p });
    } catch (e) {
    }
  }
  function wanted() {
    const url = model.get("direct_url");
    const sid = model.get("session_id");
    const track = model.get("track") || "main_video";
    if (!url || !sid || model.get("status") !== "ready" || typeof RTCPeerConnection !== "function") return null;
    if (performance.now() - kernelSeen > KERNEL_SILENT_MS) return null;
    if (hiddenSince !== null && performance.now() - hiddenSince > HIDDEN_MS) return null;
    const tracks = (model.get("capabilities") || {}).tracks || [];
    const ok = tracks.some((t) => t.name === track && t.direction === "recvonly" && (t.kind || "video") === "video");
    return ok ? `${url}|${sid}|${track}` : null;
  }
  function teardown() {
    if (abort) abort.abort();
    abort = null;
    if (conn) {
      conn.close();
      conn.pc.close();
      conn.video.srcObject = null;
      conn.video.remove();
    }
    conn = null;
    live = {};
    statsSnap = null;
    setPath("jpeg");
  }
  function fail(err) {
    state.error = String(err && err.message ? err.message : err);
    teardown();
    if (closed || attempts > RETRY_MS.length) return;
    const k = key;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (k === key) start(k);
    }, RETRY_MS[attempts - 1]);
  }
  function watch(c) {
    const gen = ++arm;
    const track = c.video.srcObject && c.video.srcObject.getVideoTracks()[0];
    state.reader = track && typeof MediaStreamTrackProcessor === "function" ? "processor" : "rvfc";
    if (state.reader === "processor") {
      readFrames(c, gen, new MediaStreamTrackProcessor({ track }).readable.getReader());
    } else {
      c.video.requestVideoFrameCallback((now, meta) => onVideoFrame(gen, meta));
    }
  }
  function painted(source, width, height) {
    lastFrame = performance.now();
    state.frames += 1;
    view.drawDirect(source, width, height);
    if (path !== "direct") setPath("direct");
  }
  async function readFrames(c, gen, reader) {
    try {
      for (; ; ) {
        const { value: frame, done } = await reader.read();
        if (done) return;
        const current = conn === c && !closed && gen === arm;
        try {
          if (current) painted(frame, frame.displayWidth, frame.displayHeight);
        } finally {
          frame.close();
        }
        if (!current) break;
      }
      reader.cancel().catch(() => {
      });
    } catch (e) {
    }
  }
  function onVideoFrame(gen, meta) {
    if (!conn || closed || gen !== arm) return;
    const video = conn.video;
    painted(video, meta.width || video.videoWidth, meta.height || video.videoHeight);
    video.requestVideoFrameCallback((now, m) => onVideoFrame(gen, m));
  }
  async function start(k) {
    attempts += 1;
    state.attempts = attempts;
    const [url, sid, track] = k.split("|");
    const ctl = abort = new AbortController();
    try {
      const c = await join(url, sid, track, ctl.signal, (s) => {
        if ((s === "failed" || s === "closed") && conn && conn.pc.connectionState === s) fail(`peer ${s}`);
      });
      if (ctl.signal.aborted || closed || k !== key) {
        c.close();
        c.pc.close();
        return;
      }
      conn = c;
      lastFrame = performance.now();
      lastDecoded = { n: -1, t: performance.now() };
      c.video.style.cssText = "position:absolute;left:0;top:0;width:2px;height:2px;opacity:0;pointer-events:none";
      view.canvas.parentElement.append(c.video);
      if (typeof MediaStreamTrackProcessor !== "function" && typeof c.video.requestVideoFrameCallback !== "function")
        throw new Error("this browser hands no decoded video frames to pages");
      watch(c);
      await c.video.play();
    } catch (err) {
      if (!ctl.signal.aborted && k === key) fail(err);
    }
  }
  function update() {
    const k = closed ? null : wanted();
    if (k === key) return;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    teardown();
    key = k;
    attempts = 0;
    state.error = null;
    if (k) start(k);
  }
  const timer = setInterval(async () => {
    update();
    if (!conn) return;
    const now = performance.now();
    try {
      const { out, snap } = pickStats(await conn.pc.getStats(), statsSnap, now);
      statsSnap = snap;
      live = out;
      if (snap && snap.decoded !== lastDecoded.n) lastDecoded = { n: snap.decoded, t: now };
    } catch (e) {
    }
    if (!conn || !visible) return;
    const unpainted = now - lastFrame;
    if (now - lastDecoded.t > STALL_MS || unpainted > 2 * STALL_MS) {
      fail(path === "direct" ? "direct frames stalled" : "no direct frames");
    } else if (unpainted > 1e3) {
      conn.video.play().catch(() => {
      });
      watch(conn);
    }
  }, 1e3);
  const events = "change:direct_url change:session_id change:status change:track change:capabilities";
  for (const ev of events.split(" ")) model.on(ev, update);
  const onStats = () => {
    kernelSeen = performance.now();
  };
  model.on("change:stats", onStats);
  update();
  return {
    state,
    setVisible(on) {
      visible = on;
      hiddenSince = on ? null : performance.now();
      lastFrame = lastDecoded.t = performance.now();
      update();
    },
    get active() {
      return path === "direct";
    },
    // overlay values while direct (fps/rtt/jitter/loss/frame age from RTCPeerConnection.getStats())
    stats: () => path === "direct" ? { ...live, view_path: "direct" } : {},
    close() {
      closed = true;
      clearInterval(timer);
      for (const ev of events.split(" ")) model.off(ev, update);
      model.off("change:stats", onStats);
      if (retryTimer) clearTimeout(retryTimer);
      key = null;
      teardown();
    }
  };
}

// src/chunk.js
var WINDOW = 32;
function currentChunk(st, key) {
  const cur = st && key ? st[key] : null;
  return Number.isFinite(cur) ? cur : null;
}
function firstOpenChunk(st, key) {
  const cur = currentChunk(st, key);
  if (cur === null) return 0;
  return st.running ? cur + 1 : cur;
}
function chunkWindow(st, p, key) {
  const open = Math.max(p.minimum ?? 0, firstOpenChunk(st, key));
  const hi = Math.min(p.maximum ?? Number.MAX_SAFE_INTEGER, open + WINDOW);
  return { open, lo: open, hi };
}
function attachChunkField(model, field) {
  const p = field.p;
  if (p.name !== "chunk" || p.type !== "integer" || p.kind !== "slider") return null;
  const range = field.row.querySelector('input[type="range"]');
  const exact = field.row.querySelector('input[type="number"]');
  if (!range || !exact) return null;
  const hint = document.createElement("div");
  hint.className = "rn-help rn-chunk-hint";
  field.row.insertBefore(hint, field.row.querySelector(".rn-field-error"));
  let edited = false;
  const mark = () => edited = true;
  range.addEventListener("input", mark);
  exact.addEventListener("input", mark);
  function update() {
    const st = model.get("model_state") || {};
    const key = (model.get("profile") || {}).chunk_key;
    const { open, lo, hi } = chunkWindow(st, p, key);
    range.min = String(lo);
    range.max = String(hi);
    if (!edited) {
      exact.value = String(open);
      range.value = String(open);
    }
    const cur = currentChunk(st, key);
    const now = cur === null ? "" : `now at chunk ${cur}; `;
    hint.textContent = `${now}next open chunk ${open} (earlier chunks are past); slider ${lo} to ${hi}, or type any chunk`;
  }
  update();
  return {
    update,
    // after a sent command the field follows the open chunk again
    release() {
      edited = false;
      update();
    }
  };
}

// src/validate.js
function show(value, limit = 60) {
  let text;
  if (typeof value === "string") text = `'${value}'`;
  else if (typeof value === "boolean") text = value ? "True" : "False";
  else if (value === null || value === void 0) text = "None";
  else text = JSON.stringify(value);
  return text.length <= limit ? text : text.slice(0, limit - 3) + "...";
}
function pyType(value) {
  if (value === null || value === void 0) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (Array.isArray(value)) return "list";
  return "dict";
}
function fmt(x) {
  return Number.isInteger(x) ? String(x) : String(x);
}
function sameEnumValue(value, member) {
  if (typeof value === "boolean" || typeof member === "boolean") return value === member;
  if (typeof value === "number" && typeof member === "number") return value === member;
  return typeof value === typeof member && value === member;
}
function validateParam(p, value) {
  if (value === null && p.nullable) return null;
  if (Array.isArray(p.enum)) {
    if (!p.enum.some((e) => sameEnumValue(value, e))) {
      return { reason: "not_in_enum", message: `value ${show(value)} is not one of: ${p.enum.map((e) => show(e)).join(", ")}` };
    }
    return null;
  }
  if (p.type === "integer" || p.type === "number") {
    if (typeof value !== "number") {
      return { reason: "wrong_type", message: `expected ${p.type}, got ${pyType(value)} ${show(value)}` };
    }
    if (!Number.isFinite(value)) {
      return { reason: "invalid_value", message: `expected a finite ${p.type}, got ${value}` };
    }
    if (p.type === "integer" && !Number.isInteger(value)) {
      return { reason: "wrong_type", message: `expected integer, got non-integral number ${value}` };
    }
    const lo = p.minimum, hi = p.maximum;
    if (lo != null && value < lo || hi != null && value > hi) {
      const rng = lo != null && hi != null ? `${fmt(lo)} to ${fmt(hi)}` : lo != null ? `>= ${fmt(lo)}` : `<= ${fmt(hi)}`;
      return { reason: "out_of_range", message: `value ${value} is out of range (${rng})` };
    }
    return null;
  }
  if (p.type === "string") {
    if (typeof value !== "string") {
      return { reason: "wrong_type", message: `expected string, got ${pyType(value)} ${show(value)}` };
    }
    const n = [...value].length;
    if (p.minLength != null && n < p.minLength) {
      return { reason: "out_of_range", message: `length ${n} is below the minimum length ${p.minLength}` };
    }
    if (p.maxLength != null && n > p.maxLength) {
      return { reason: "out_of_range", message: `length ${n} exceeds the maximum length ${p.maxLength}` };
    }
    return null;
  }
  if (p.type === "boolean") {
    if (typeof value !== "boolean") {
      return { reason: "wrong_type", message: `expected boolean, got ${pyType(value)} ${show(value)}` };
    }
  }
  return null;
}
function validateArgs(cmd, values) {
  const args = {};
  const errors = {};
  const grouped = new Set((cmd.one_of || []).flat());
  for (const p of cmd.params) {
    const v = values[p.name];
    if (v === void 0) {
      if (p.required && !grouped.has(p.name)) {
        errors[p.name] = { reason: "missing_field", message: `required field is missing${p.type !== "json" ? ` (${p.type})` : ""}` };
      }
      continue;
    }
    if (v && typeof v === "object" && v.__parseError) {
      errors[p.name] = { reason: "wrong_type", message: v.__parseError };
      continue;
    }
    const err = validateParam(p, v);
    if (err) errors[p.name] = err;
    else args[p.name] = v;
  }
  for (const group of cmd.one_of || []) {
    const present = group.filter((n) => values[n] !== void 0);
    if (present.length !== 1) {
      const what = present.length ? "both" : "neither";
      const field = present.length ? present[present.length - 1] : group[0];
      errors[field] = {
        reason: "invalid_value",
        message: `give exactly one of ${group.map((n) => `'${n}'`).join(" or ")} (${what} given)`
      };
    }
  }
  return { args, errors };
}
function parseInput(p, raw) {
  if (p.kind === "checkbox") return raw;
  if (raw === void 0 || raw === null || raw === "") return void 0;
  if (p.kind === "select" && Array.isArray(p.enum)) {
    const hit = p.enum.find((e) => String(e) === raw);
    return hit === void 0 ? raw : hit;
  }
  if (p.type === "integer" || p.type === "number") {
    const s = String(raw).trim();
    const n = Number(s);
    if (s === "" || Number.isNaN(n)) return { __parseError: `expected ${p.type}, got str ${show(s)}` };
    return n;
  }
  if (p.kind === "json") {
    try {
      return JSON.parse(raw);
    } catch (e) {
      return { __parseError: `not valid JSON: ${e.message}` };
    }
  }
  return raw;
}

// src/forms.js
var MAX_IMAGE_BYTES = 140 * 1024;
var MAX_IMAGE_SIDE = 1024;
async function fileToBase64(file) {
  let blob = file;
  const bitmap = await createImageBitmap(file).catch(() => null);
  if (bitmap && (file.size > MAX_IMAGE_BYTES || Math.max(bitmap.width, bitmap.height) > MAX_IMAGE_SIDE)) {
    const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height));
    const c = document.createElement("canvas");
    c.width = Math.max(1, Math.round(bitmap.width * scale));
    c.height = Math.max(1, Math.round(bitmap.height * scale));
    c.getContext("2d").drawImage(bitmap, 0, 0, c.width, c.height);
    for (const q of [0.85, 0.7, 0.55, 0.4]) {
      blob = await new Promise((r) => c.toBlob(r, "image/jpeg", q));
      if (blob.size <= MAX_IMAGE_BYTES) break;
    }
  }
  if (bitmap && bitmap.close) bitmap.close();
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 32768) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
  return { b64: btoa(bin), size: bytes.length, type: blob.type || file.type };
}
function fieldInput(p, form) {
  const row = document.createElement("div");
  row.className = `rn-field rn-kind-${p.kind}`;
  row.dataset.field = p.name;
  const label = document.createElement("label");
  label.textContent = p.name;
  if (p.required) {
    const star = document.createElement("span");
    star.className = "rn-required";
    star.textContent = " *";
    star.title = "required";
    label.append(star);
  }
  if (p.alternatives && p.alternatives.length) {
    const alt = document.createElement("span");
    alt.className = "rn-alt";
    alt.textContent = ` (or ${p.alternatives.join(" / ")})`;
    label.append(alt);
  }
  if (p.description) label.title = p.description;
  const control = document.createElement("div");
  control.className = "rn-control";
  const msg = document.createElement("div");
  msg.className = "rn-field-error";
  row.append(label, control, msg);
  let get;
  let set;
  const def = p.default;
  const id = `rn-${Math.random().toString(36).slice(2)}`;
  label.htmlFor = id;
  if (p.kind === "slider") {
    const range = document.createElement("input");
    range.type = "range";
    range.min = p.minimum;
    range.max = p.maximum;
    range.step = p.step ?? "any";
    const exact = document.createElement("input");
    exact.type = "number";
    exact.id = id;
    exact.name = p.name;
    exact.step = p.step ?? "any";
    exact.min = p.minimum;
    exact.max = p.maximum;
    range.addEventListener("input", () => exact.value = range.value);
    exact.addEventListener("input", () => {
      if (exact.value !== "") range.value = exact.value;
    });
    control.append(range, exact);
    get = () => exact.value;
    set = (v) => {
      exact.value = v ?? "";
      if (v != null) range.value = v;
    };
  } else if (p.kind === "select") {
    const sel = document.createElement("select");
    sel.id = id;
    sel.name = p.name;
    if (!p.required || def == null) {
      const empty = document.createElement("option");
      empty.value = "";
      empty.textContent = p.required ? "\u2014 choose \u2014" : "(default)";
      sel.append(empty);
    }
    for (const e of p.enum) {
      const o = document.createElement("option");
      o.value = String(e);
      o.textContent = String(e);
      sel.append(o);
    }
    control.append(sel);
    get = () => sel.value;
    set = (v) => sel.value = v == null ? "" : String(v);
  } else if (p.kind === "checkbox") {
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.id = id;
    cb.name = p.name;
    control.append(cb);
    get = () => cb.checked;
    set = (v) => cb.checked = !!v;
  } else if (p.kind === "textarea" || p.kind === "json") {
    const ta = document.createElement("textarea");
    ta.id = id;
    ta.name = p.name;
    ta.rows = p.kind === "json" ? 3 : 2;
    if (p.kind === "json") ta.placeholder = "JSON value";
    if (p.maxLength != null) ta.maxLength = p.maxLength + 1;
    ta.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    control.append(ta);
    get = () => ta.value;
    set = (v) => ta.value = v == null ? "" : p.kind === "json" ? JSON.stringify(v) : String(v);
  } else if (p.kind === "image" || p.kind === "upload") {
    const drop = document.createElement("div");
    drop.className = "rn-drop";
    const file = document.createElement("input");
    file.type = "file";
    file.accept = "image/png,image/jpeg,image/webp";
    file.id = id;
    file.name = p.name;
    const note = document.createElement("span");
    note.className = "rn-drop-note";
    note.textContent = "drop an image or choose a file";
    const thumb = document.createElement("img");
    thumb.className = "rn-thumb";
    drop.append(file, note, thumb);
    control.append(drop);
    let value;
    async function take(f) {
      if (!f) return;
      if (p.kind === "upload") {
        value = { __upload: true, file: f, name: f.name, type: f.type, size: f.size };
        if (f.type.startsWith("image/")) thumb.src = URL.createObjectURL(f);
        else thumb.removeAttribute("src");
        note.textContent = `${f.name} (${Math.round(f.size / 1024)} KB, uploaded on submit)`;
        return;
      }
      note.textContent = "reading\u2026";
      try {
        const { b64, size, type } = await fileToBase64(f);
        value = b64;
        thumb.src = `data:${type};base64,${b64}`;
        note.textContent = `${f.name} (${Math.round(size / 1024)} KB${size < f.size ? ", resized" : ""})`;
      } catch (e) {
        value = void 0;
        note.textContent = `cannot read image: ${e}`;
      }
    }
    file.addEventListener("change", () => take(file.files[0]));
    drop.addEventListener("dragover", (ev) => {
      ev.preventDefault();
      drop.classList.add("rn-over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("rn-over"));
    drop.addEventListener("drop", (ev) => {
      ev.preventDefault();
      drop.classList.remove("rn-over");
      take(ev.dataTransfer.files[0]);
    });
    if (p.kind === "upload") {
      file.removeAttribute("accept");
      note.textContent = "drop a file or choose one (uploaded on submit)";
    }
    get = () => value;
    set = (v) => {
      value = v ?? void 0;
      if (!v) {
        thumb.removeAttribute("src");
        file.value = "";
      }
    };
  } else {
    const inp = document.createElement("input");
    inp.type = p.kind === "number" ? "number" : "text";
    if (p.kind === "number") inp.step = p.step ?? "any";
    inp.id = id;
    inp.name = p.name;
    control.append(inp);
    get = () => inp.value;
    set = (v) => inp.value = v == null ? "" : String(v);
  }
  if (def != null) set(def);
  if (p.description) {
    const help = document.createElement("div");
    help.className = "rn-help";
    help.textContent = p.description;
    row.insertBefore(help, msg);
  }
  return {
    p,
    row,
    value: () => parseInput(p, get()),
    reset: () => set(def),
    setError(text) {
      msg.textContent = text || "";
      row.classList.toggle("rn-invalid", !!text);
    }
  };
}
function createForms(model, root, send, commands) {
  const box = document.createElement("div");
  box.className = "rn-forms";
  root.append(box);
  let forms = /* @__PURE__ */ new Map();
  function buildForm(cmd) {
    const form = document.createElement("form");
    form.className = "rn-form";
    form.dataset.command = cmd.name;
    form.noValidate = true;
    const head = document.createElement("div");
    head.className = "rn-form-head";
    const title = document.createElement("span");
    title.className = "rn-form-title";
    title.textContent = cmd.name;
    const desc = document.createElement("span");
    desc.className = "rn-form-desc";
    desc.textContent = cmd.description || "";
    head.append(title, desc);
    form.append(head);
    const fields = cmd.params.map((p) => fieldInput(p, form));
    for (const f of fields) form.append(f.row);
    const chunkFields = fields.map((f) => attachChunkField(model, f)).filter(Boolean);
    const foot = document.createElement("div");
    foot.className = "rn-form-foot";
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = cmd.params.length ? "Send" : cmd.name;
    const result = document.createElement("span");
    result.className = "rn-form-result";
    foot.append(submit, result);
    form.append(foot);
    const ctl = {
      cmd,
      form,
      fields,
      onState: () => chunkFields.forEach((c) => c.update()),
      released: () => chunkFields.forEach((c) => c.release()),
      setResult(text, ok) {
        result.textContent = text || "";
        result.className = `rn-form-result ${ok === true ? "rn-ok" : ok === false ? "rn-bad" : ""}`;
      },
      clearErrors() {
        for (const f of fields) f.setError("");
        ctl.setResult("");
      },
      showError(err) {
        const f = err && err.field && fields.find((x) => x.p.name === err.field);
        if (f) f.setError(err.message);
        ctl.setResult(f ? `rejected: ${err.reason || "error"}` : err.message, false);
      }
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      ctl.clearErrors();
      const values = {};
      for (const f of fields) values[f.p.name] = f.value();
      const { args, errors } = validateArgs(cmd, values);
      const bad = Object.entries(errors);
      if (bad.length) {
        for (const [name, e] of bad) {
          const f = fields.find((x) => x.p.name === name);
          const text = `${cmd.name}: field '${name}': ${e.message}`;
          if (f) f.setError(text);
        }
        ctl.setResult(`${bad.length} field${bad.length > 1 ? "s" : ""} to fix`, false);
        return;
      }
      const id = commands.add("cmd", (msg) => onResult(ctl, msg));
      submit.disabled = true;
      const files = Object.entries(args).filter(([, v]) => v && v.__upload);
      ctl.setResult(files.length ? "uploading\u2026" : "sending\u2026");
      sendCommand(id, cmd.name, args, files).catch((e) => {
        commands.drop(id);
        submit.disabled = false;
        ctl.setResult(`cannot read file: ${e}`, false);
      });
    });
    return ctl;
  }
  async function sendCommand(id, name, args, files) {
    if (!files.length) return send({ type: "command", id, name, args });
    const rest = { ...args };
    const uploads = {};
    const buffers = [];
    for (const [field, v] of files) {
      delete rest[field];
      uploads[field] = { buffer: buffers.length, name: v.name, mime_type: v.type || null };
      buffers.push(await v.file.arrayBuffer());
    }
    send({ type: "command", id, name, args: rest, uploads }, buffers);
  }
  function render2() {
    const cmds = (model.get("commands") || []).filter((c) => !c.transport);
    const sig = JSON.stringify(cmds);
    if (sig === box.dataset.sig) return;
    box.dataset.sig = sig;
    box.replaceChildren();
    forms = /* @__PURE__ */ new Map();
    if (!cmds.length) {
      const empty = document.createElement("div");
      empty.className = "rn-empty";
      empty.textContent = model.get("status") === "ready" ? "the model declares no commands with parameters" : "";
      box.append(empty);
      return;
    }
    for (const cmd of cmds) {
      const ctl = buildForm(cmd);
      forms.set(cmd.name, ctl);
      box.append(ctl.form);
    }
  }
  function onResult(ctl, msg) {
    ctl.form.querySelector("button[type=submit]").disabled = false;
    if (msg.ok) {
      if (!ctl.form.querySelector(".rn-form-result.rn-bad")) ctl.setResult(replyText(msg.reply), true);
      ctl.released();
    } else ctl.showError(msg.error);
  }
  function replyText(reply) {
    if (!reply || !reply.type) return "sent \u2713";
    let name = reply.type;
    let body = reply.data ?? {};
    if (name === "event" && body && typeof body.event === "string") {
      ({ event: name, ...body } = body);
    }
    const data = JSON.stringify(body);
    return `\u2190 ${name} ${data.length > 120 ? data.slice(0, 119) + "\u2026" : data}`;
  }
  function showModelError() {
    const err = model.get("model_error");
    for (const ctl of forms.values()) {
      if (err && err.command === ctl.cmd.name) ctl.showError(err);
    }
  }
  function onState() {
    for (const ctl of forms.values()) ctl.onState();
  }
  render2();
  return { render: render2, showModelError, onState, forms: () => forms };
}

// src/stats.js
function pct(values, q) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q / 100 * s.length))];
}
function num(v, digits, unit) {
  return typeof v === "number" && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : "\u2013";
}
function createStats(model, viewWrap, debug, fpsShown, live = () => ({})) {
  const box = document.createElement("div");
  box.className = "rn-stats";
  viewWrap.append(box);
  function render2() {
    const on = !!model.get("show_stats");
    box.style.display = on ? "" : "none";
    if (!on) return;
    const k = { ...model.get("stats") || {}, ...live() };
    const lat = debug.latencies.slice(-120);
    const p50 = pct(lat, 50);
    const p95 = pct(lat, 95);
    const rows = [
      ["fps shown", fpsShown().toFixed(1)],
      ["fps received", k.fps_received != null ? Number(k.fps_received).toFixed(1) : "\u2013"],
      ["latency p50/p95", p50 != null ? `${p50.toFixed(0)} / ${p95.toFixed(0)} ms` : "\u2013"],
      ["rtt (WebRTC)", num(k.rtt_ms, 0, " ms")],
      ["jitter", num(k.jitter_ms, 1, " ms")],
      ["packet loss", k.packet_loss_ratio != null ? `${(100 * k.packet_loss_ratio).toFixed(2)} %` : "\u2013"],
      ["frame age", num(k.frame_age_ms, 1, " ms")],
      ["ack rtt p50", k.ack_ms_p50 != null ? `${k.ack_ms_p50} ms` : "\u2013"],
      ["dropped", k.dropped != null ? `${k.dropped} (${k.lost ?? 0} lost)` : "\u2013"],
      ["kB/s", k.bytes_per_s != null ? (k.bytes_per_s / 1024).toFixed(0) : "\u2013"],
      ["path", k.view_path === "direct" ? "direct WebRTC" : "kernel JPEG"],
      ["jpeg", k.view_path === "direct" ? "off" : k.quality != null ? `q${k.quality}${k.scale < 1 ? ` \xD7${k.scale}` : ""} ${k.encoder || ""}` : "\u2013"]
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
      })
    );
  }
  const timer = setInterval(render2, 500);
  render2();
  return { render: render2, close: () => clearInterval(timer) };
}

// src/status.js
function createStatus(model, root, send) {
  const bar = document.createElement("div");
  bar.className = "rn-statusbar";
  const badge = document.createElement("span");
  badge.className = "rn-badge";
  const info = document.createElement("span");
  info.className = "rn-info";
  const tools = document.createElement("span");
  tools.className = "rn-tools";
  bar.append(badge, info, tools);
  const error = document.createElement("div");
  error.className = "rn-error";
  error.setAttribute("role", "alert");
  const errText = document.createElement("span");
  const retry = document.createElement("button");
  retry.className = "rn-retry";
  retry.textContent = "Retry";
  const retryNote = document.createElement("span");
  retryNote.className = "rn-retry-note";
  error.append(errText, retry, retryNote);
  const notice = document.createElement("div");
  notice.className = "rn-notice";
  const shared = document.createElement("div");
  shared.className = "rn-shared";
  shared.setAttribute("role", "status");
  root.append(bar, error, notice, shared);
  let retrying = false;
  retry.addEventListener("click", () => {
    if (retrying) return;
    retrying = true;
    retry.disabled = true;
    retryNote.textContent = "reconnecting\u2026";
    send({ type: "retry" });
  });
  function render2() {
    const status = model.get("status") || "disconnected";
    badge.textContent = status;
    badge.dataset.status = status;
    badge.className = `rn-badge rn-${status}`;
    const sid = model.get("session_id");
    const name = model.get("model_name");
    info.textContent = [name, sid ? `session ${sid}` : null].filter(Boolean).join(" \xB7 ");
    const err = model.get("last_error");
    if (err && err.code && status !== "ready") {
      error.style.display = "";
      errText.textContent = `[${err.component || "api"}] ${err.code}: ${err.message}`;
      retry.style.display = err.recoverable ? "" : "none";
    } else if (status === "disconnected" && name) {
      error.style.display = "";
      errText.textContent = sid ? `Disconnected; session ${sid} is kept for a while, Retry reconnects to it (or starts a new one).` : "Disconnected. Retry connects a new session.";
      retry.style.display = "";
    } else {
      error.style.display = "none";
    }
    root.classList.toggle("rn-not-ready", status !== "ready");
    notice.textContent = model.get("kernel_subshells") ? "" : "This kernel has no subshells: frame acks and form replies may lag while a cell runs (frames keep flowing at a reduced rate).";
    notice.style.display = model.get("kernel_subshells") ? "none" : "";
    const others = model.get("shared_clients") || 0;
    shared.textContent = others > 0 && sid ? `Shared session: ${others} other client${others === 1 ? "" : "s"} (another notebook?) use${others === 1 ? "s" : ""} session ${sid}; their commands reach the same model, and this one will not stop it on disconnect.` : "";
    shared.style.display = shared.textContent ? "" : "none";
  }
  function onRetryResult(msg) {
    retrying = false;
    retry.disabled = false;
    retryNote.textContent = msg.ok ? "" : `retry failed: ${msg.message || "unknown error"}`;
  }
  render2();
  return { render: render2, onRetryResult, tools };
}

// src/timeline.js
function createTimeline(model, root, send, commands) {
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
  const buttons = /* @__PURE__ */ new Map();
  function timeline() {
    const profile = model.get("profile");
    return profile && profile.timeline || {};
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
      reset: !!started || Object.keys(tl.lane && st[tl.lane] || {}).length > 0
    };
    for (const [name, b] of buttons) {
      b.disabled = !ready || name in enabled && !enabled[name];
      b.classList.toggle("rn-active", name === "start" && st.running && !st.paused || name === "pause" && st.paused);
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
    stateLine.textContent = bits.join(" \xB7 ");
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
        const next = chunks.find((c) => c > k);
        const span2 = Math.max(1, Math.min(next ?? start + span0, start + span0) - k);
        tag.style.width = `calc(${span2 * 100}% + ${span2 - 1}px - 4px)`;
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
  function onResult(msg) {
    renderButtons();
    if (!msg.ok && msg.error) {
      modelErr.textContent = msg.error.message;
      modelErr.style.display = "";
      showBox();
    }
  }
  function render2() {
    renderButtons();
    renderState();
    renderError();
  }
  render2();
  return { render: render2, renderError };
}

// src/codecover.js
var CODE_W = 256;
var CODE_H = 16;
var SOURCE_ROW = CODE_H + 3;
var CODE_EXPLAINED = "The black-and-white blocks at the top left encode the frame number (16 bits, reactor_notebook.framecode.read_index) so order, loss and latency can be measured from pixels; set show_index_code=False to cover them.";
function createCodeCover(model, wrap, canvas) {
  const cover = document.createElement("canvas");
  cover.className = "rn-code-cover";
  cover.width = CODE_W;
  cover.height = CODE_H;
  cover.setAttribute("aria-hidden", "true");
  const cctx = cover.getContext("2d", { alpha: false });
  const note = document.createElement("div");
  note.className = "rn-code-note";
  note.textContent = "top-left blocks: frame number code (hover the picture for details)";
  wrap.append(cover);
  wrap.after(note);
  let present = false;
  function place() {
    const W = canvas.width, H = canvas.height;
    const cw = canvas.clientWidth, ch = canvas.clientHeight;
    if (!W || !H || !cw || !ch) return;
    const fit = model.get("fit") || "contain";
    let sx = cw / W, sy = ch / H, ox = 0, oy = 0;
    const fixed = wrap.classList.contains("rn-fixed");
    if (fixed && fit !== "fill") {
      let s = fit === "cover" ? Math.max(sx, sy) : fit === "none" ? 1 : Math.min(sx, sy);
      if (fit === "scale-down") s = Math.min(s, 1);
      sx = sy = s;
      ox = (cw - W * s) / 2;
      oy = (ch - H * s) / 2;
    }
    cover.style.left = `${canvas.offsetLeft + ox}px`;
    cover.style.top = `${canvas.offsetTop + oy}px`;
    cover.style.width = `${CODE_W * sx}px`;
    cover.style.height = `${CODE_H * sy}px`;
  }
  function render2() {
    const shown = !!model.get("show_index_code");
    cover.style.display = present && !shown ? "" : "none";
    note.style.display = present && shown ? "" : "none";
    wrap.title = present && shown ? CODE_EXPLAINED : "";
  }
  const ro = typeof ResizeObserver === "function" ? new ResizeObserver(place) : null;
  if (ro) ro.observe(canvas);
  return {
    // after each drawn frame: msg.code says whether this frame carries the code
    onDrawn(msg, sizeChanged) {
      if (!!msg.code !== present) {
        present = !!msg.code;
        render2();
      }
      if (present && !model.get("show_index_code") && canvas.width >= CODE_W && canvas.height > SOURCE_ROW) {
        cctx.drawImage(canvas, 0, SOURCE_ROW, CODE_W, 1, 0, 0, CODE_W, CODE_H);
        if (sizeChanged) place();
      }
    },
    render() {
      render2();
      place();
    },
    place,
    close() {
      if (ro) ro.disconnect();
    }
  };
}

// src/view.js
function createView(model, root, debug) {
  const wrap = document.createElement("div");
  wrap.className = "rn-view";
  const canvas = document.createElement("canvas");
  canvas.className = "rn-canvas";
  canvas.width = 640;
  canvas.height = 384;
  const placeholder = document.createElement("div");
  placeholder.className = "rn-placeholder";
  placeholder.textContent = "waiting for frames\u2026";
  wrap.append(canvas, placeholder);
  root.append(wrap);
  const ctx = canvas.getContext("2d", { alpha: false });
  const codeCover = createCodeCover(model, wrap, canvas);
  let decoding = false;
  let pending = null;
  let closed = false;
  let visible = true;
  let held = null;
  let lastCode = false;
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
    while (drawTimes.length && drawTimes[0] < performance.now() - 2e3) drawTimes.shift();
    debug.onDrawn(msg, now, ms, received);
    if (debug.hook) debug.hook(canvas, msg, now);
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
      held = { msg, buffer, received: Date.now() };
      debug.hiddenSkipped += 1;
      return;
    }
    if (pending) {
      debug.superseded += 1;
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
      const recent = drawTimes.filter((t) => t >= now - 2e3);
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
    }
  };
}

// src/webcam.js
var WINDOW2 = 2;
var ACK_TIMEOUT_MS = 1e3;
function createWebcam(model, root, send, debug) {
  const box = document.createElement("div");
  box.className = "rn-webcam";
  const btn = document.createElement("button");
  btn.className = "rn-btn rn-webcam-toggle";
  const note = document.createElement("span");
  note.className = "rn-webcam-note";
  const video = document.createElement("video");
  video.className = "rn-webcam-preview";
  video.muted = true;
  video.playsInline = true;
  const camera = document.createElement("select");
  camera.className = "rn-webcam-device";
  camera.title = "camera";
  const target = document.createElement("select");
  target.className = "rn-webcam-track";
  target.title = "the model's input track";
  box.append(btn, camera, target, note, video);
  root.append(box);
  const canvas = document.createElement("canvas");
  let stream = null;
  let timer = null;
  let nextId2 = 1;
  const inFlight = /* @__PURE__ */ new Map();
  let active = false;
  let track = null;
  function option(value, text) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }
  async function listCameras() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
    const current = camera.value;
    camera.replaceChildren(
      option("", "default camera"),
      ...devices.map((d, i) => option(d.deviceId, d.label || `camera ${i + 1}`))
    );
    if ([...camera.options].some((o) => o.value === current)) camera.value = current;
    camera.style.display = devices.length ? "" : "none";
  }
  function constraints() {
    const c = { ...model.get("webcam_constraints") || {} };
    if (camera.value) c.deviceId = { exact: camera.value };
    return { video: Object.keys(c).length ? c : true, audio: false };
  }
  function renderButton() {
    const inputs = model.get("input_tracks") || [];
    box.style.display = inputs.length ? "" : "none";
    const sig = inputs.join("\n");
    if (target.dataset.sig !== sig) {
      const keep = target.value;
      target.dataset.sig = sig;
      target.replaceChildren(...inputs.map((n) => option(n, n)));
      if (inputs.includes(keep)) target.value = keep;
    }
    target.style.display = inputs.length > 1 ? "" : "none";
    target.disabled = !!stream;
    track = target.value || inputs[0] || null;
    btn.textContent = stream ? `\u25A0 stop webcam (${track})` : `\u25CF webcam \u2192 ${track}`;
    btn.disabled = model.get("status") !== "ready" && !stream;
  }
  async function start() {
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints());
    } catch (e) {
      note.textContent = `camera unavailable: ${e.message || e}`;
      stream = null;
      return renderButton();
    }
    video.srcObject = stream;
    video.classList.add("rn-live");
    await video.play().catch(() => {
    });
    listCameras().catch(() => {
    });
    const settings = stream.getVideoTracks()[0]?.getSettings?.() || {};
    video.dataset.size = settings.width ? `${settings.width}x${settings.height}` : "";
    note.textContent = "publishing\u2026";
    send({ type: "webcam_start", track });
    renderButton();
  }
  function stop(tell = true) {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) for (const t of stream.getTracks()) t.stop();
    stream = null;
    video.srcObject = null;
    video.classList.remove("rn-live");
    active = false;
    inFlight.clear();
    if (tell) send({ type: "webcam_stop" });
    note.textContent = "";
    renderButton();
  }
  function loop() {
    if (!stream || !active) return;
    const fps = Math.max(1, Math.min(60, model.get("webcam_fps") || 15));
    timer = setTimeout(loop, 1e3 / fps);
    const now = performance.now();
    for (const [id2, t] of inFlight) if (now - t > ACK_TIMEOUT_MS) inFlight.delete(id2);
    if (inFlight.size >= WINDOW2 || video.readyState < 2) return;
    const w = video.videoWidth || 640, h = video.videoHeight || 480;
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    const id = nextId2++;
    inFlight.set(id, now);
    canvas.toBlob(
      async (blob) => {
        if (!blob || !active) return inFlight.delete(id);
        const buf = await blob.arrayBuffer();
        send({ type: "webcam_frame", id, width: w, height: h }, [buf]);
        debug.webcamSent += 1;
      },
      "image/jpeg",
      0.75
    );
  }
  btn.addEventListener("click", () => stream ? stop() : start());
  target.addEventListener("change", renderButton);
  camera.addEventListener("change", async () => {
    if (!stream) return;
    const old = stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints());
    } catch (e) {
      note.textContent = `camera unavailable: ${e.message || e}`;
      return;
    }
    for (const t of old.getTracks()) t.stop();
    video.srcObject = stream;
    await video.play().catch(() => {
    });
  });
  listCameras().catch(() => {
  });
  function onState(msg) {
    if (msg.active && stream) {
      active = true;
      note.textContent = `publishing to ${msg.track}`;
      loop();
    } else if (!msg.active) {
      if (msg.error) {
        stop(false);
        note.textContent = msg.error;
      }
    }
  }
  function onAck(msg) {
    inFlight.delete(msg.id);
    debug.webcamAcked += 1;
    if (msg.error) note.textContent = `frame rejected: ${msg.error}`;
  }
  renderButton();
  return { render: renderButton, onState, onAck, close: () => stop(!!stream) };
}

// src/index.js
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
    frames: [],
    // recent {id, seq, index, sent_at, drawn_at, decode_ms}
    hook: null,
    // optional (canvas, msg, drawnAtMs) => void, set by benchmarks and tests
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
    }
  };
}
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "rn-root";
  el.append(root);
  const debug = newDebug();
  const send = (content, buffers) => model.send(content, void 0, buffers);
  const status = createStatus(model, root, send);
  const view = createView(model, root, debug);
  let direct = null;
  const stats = createStats(model, view.canvas.parentElement, debug, () => view.fpsShown(), () => direct ? direct.stats() : {});
  const webcam = createWebcam(model, root, send, debug);
  const commands = createCommands();
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
  const onMsg = (msg, buffers) => {
    switch (msg && msg.type) {
      case "frame":
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
    ["change:show_index_code", () => view.renderCode()]
  ];
  for (const [evs, fn] of handlers) for (const ev of evs.split(" ")) model.on(ev, fn);
  const registry = globalThis.__reactorWidgets = globalThis.__reactorWidgets || [];
  const entry = { el: root, canvas: view.canvas, debug, model };
  registry.push(entry);
  root.__reactor = entry;
  const viewId = Math.random().toString(36).slice(2, 10);
  send({ type: "ready", view: viewId });
  direct = createDirect(model, view, send, viewId);
  entry.direct = direct.state;
  let visible = true;
  const io = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
    const now = entries[entries.length - 1].isIntersecting;
    if (now !== visible) {
      visible = now;
      view.setVisible(visible);
      direct.setVisible(visible);
      send({ type: "visibility", view: viewId, visible });
    }
  }) : null;
  if (io) io.observe(root);
  return () => {
    if (io) io.disconnect();
    try {
      send({ type: "view_closed", view: viewId });
    } catch (e) {
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
var index_default = { render };
export {
  index_default as default
};
