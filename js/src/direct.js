// Direct view (reactor_notebook/widget/direct.py): when the kernel offers `direct_url` (a local
// runtime on a loopback URL that needs no key), this page joins the kernel's session as a second
// WebRTC connection with one receive-only video transceiver, lets the browser decode the stream
// and paints each decoded frame on the view's canvas. Once frames flow it tells the kernel
// {type: "view_path", path: "direct"}, and the kernel stops JPEG-encoding for this view; if the
// connection fails or stalls it reports "jpeg" and the kernel's JPEG frames take over again.
//
// Signalling (docs/protocol-v1.md, "Signalling facts"; routes under
// {url}/sessions/{id}/transport/webrtc): GET ice_servers, POST connections (201 {connection_id}),
// POST connections/{cid}/sdp_params with a complete offer and the track mapping (202), then poll
// GET of the same route until 200 {sdp_answer}. A `data` channel carries the runtime ping every
// 5 s, which keeps the runtime's keepalive watchdog from closing this connection.

const PING_MS = 5000;
const GATHER_MS = 5000;
const ANSWER_WAIT_MS = 10000;
const STALL_MS = 3000;
// The kernel updates `stats` every second; without it for this long the kernel is gone, and this
// connection must not keep the runtime's session alive on its own.
const KERNEL_SILENT_MS = 15000;
// A view out of sight this long leaves the session (each connection costs the runtime an encode);
// it joins again when it comes back into view, with JPEG frames meanwhile.
const HIDDEN_MS = 3000;
const RETRY_MS = [5000, 20000]; // retries after a failure, per session; then JPEG until it changes
const PING = JSON.stringify({ scope: "runtime", data: { type: "ping", data: {} } });
const HEADERS = {
  "Content-Type": "application/json",
  Authorization: "Bearer local", // the literal of local mode (no secret): a keyed runtime is never offered
  "Reactor-WebRTC-Version": "1.0",
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(method, url, body, signal) {
  const init = { method, headers: HEADERS, signal };
  if (body !== undefined) init.body = JSON.stringify(body);
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
  // STUN adds nothing on loopback; TURN entries are kept as given
  return ((json && json.ice_servers) || [])
    .map((s) => ({
      urls: (s.uris || []).filter((u) => /^turns?:/.test(u)),
      ...(s.credentials ? { username: s.credentials.username, credential: s.credentials.password } : {}),
    }))
    .filter((s) => s.urls.length);
}

function preferH264(tx) {
  // H264 first, as the kernel's connection asks: the runtime then serves both from one shared encoder
  const caps = typeof RTCRtpReceiver !== "undefined" && RTCRtpReceiver.getCapabilities
    ? RTCRtpReceiver.getCapabilities("video")
    : null;
  if (!caps || !tx.setCodecPreferences) return;
  const is = (c, m) => c.mimeType.toLowerCase() === m;
  const h264 = caps.codecs.filter((c) => is(c, "video/h264"));
  const vp8 = caps.codecs.filter((c) => is(c, "video/vp8"));
  const rest = caps.codecs.filter((c) => !h264.includes(c) && !vp8.includes(c));
  try {
    tx.setCodecPreferences([...h264, ...vp8, ...rest]);
  } catch (e) {
    // keep the browser's order
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

// One receive-only connection: resolves with {pc, video} once the track plays; throws on failure.
async function join(url, sid, track, signal, onState) {
  const base = `${url}/sessions/${encodeURIComponent(sid)}/transport/webrtc`;
  const ice = await call("GET", `${base}/ice_servers`, undefined, signal);
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
    const reg = await call("POST", `${base}/connections`, { role: "viewer" }, signal); // not counted as a client
    if (reg.status !== 201 || !reg.json) throw new Error(`connections: HTTP ${reg.status}`);
    const sdpUrl = `${base}/connections/${reg.json.connection_id}/sdp_params`;
    const offer = await call("POST", sdpUrl, {
      sdp_offer: pc.localDescription.sdp,
      client_info: { sdk_version: "reactor-notebook-direct-view", sdk_type: "js" },
      track_mapping: [{ mid: String(tx.mid), name: track, kind: "video", direction: "recvonly" }],
    }, signal);
    if (offer.status !== 202 && offer.status !== 200) throw new Error(`sdp_params: HTTP ${offer.status} ${offer.text}`);
    const deadline = performance.now() + ANSWER_WAIT_MS;
    let answer = null;
    for (let delay = 50; !answer; delay = Math.min(500, delay * 2)) {
      const got = await call("GET", sdpUrl, undefined, signal);
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
    decodeTime: inbound.totalDecodeTime || 0,
  };
  const out = {
    rtt_ms: pair && pair.currentRoundTripTime != null ? pair.currentRoundTripTime * 1000 : null,
    jitter_ms: inbound.jitter != null ? inbound.jitter * 1000 : null,
    codec_fps: inbound.framesPerSecond ?? null,
  };
  if (prev) {
    const dt = (now - prev.t) / 1000;
    const dDec = snap.decoded - prev.decoded;
    const dLost = snap.lost - prev.lost, dRecv = snap.recv - prev.recv;
    const dJb = snap.jbCount - prev.jbCount;
    out.fps_received = dt > 0 ? dDec / dt : null;
    out.packet_loss_ratio = dLost + dRecv > 0 ? Math.max(0, dLost) / (dLost + dRecv) : null;
    // frame age: time in the jitter buffer plus decode, per frame (network transit is rtt / 2)
    out.frame_age_ms = dJb > 0 && dDec > 0
      ? (1000 * (snap.jbDelay - prev.jbDelay)) / dJb + (1000 * (snap.decodeTime - prev.decodeTime)) / dDec
      : null;
  }
  return { out, snap };
}

export function createDirect(model, view, send, viewId) {
  let conn = null; // {pc, video, close}
  let key = null; // url|session|track of the connection (or attempt) in place
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
  let arm = 0; // generation of the requestVideoFrameCallback chain (re-armed after a pause)
  const state = { path: "jpeg", error: null, frames: 0, attempts: 0, reader: null };

  function setPath(p) {
    if (p === path) return;
    path = state.path = p;
    try {
      send({ type: "view_path", view: viewId, path: p });
    } catch (e) {
      // the widget is closing
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

  // Every decoded frame is painted: MediaStreamTrackProcessor (Chromium) hands each one over, where
  // requestVideoFrameCallback reports one per composited frame and skips those that land within
  // one compositor tick (~8 % of a 30 fps stream in headless Chromium). rVFC where it is missing.
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
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) return;
        const current = conn === c && !closed && gen === arm;
        try {
          if (current) painted(frame, frame.displayWidth, frame.displayHeight);
        } finally {
          frame.close(); // decoder buffers are few: give each back at once
        }
        if (!current) break;
      }
      reader.cancel().catch(() => {});
    } catch (e) {
      // the track ended or the peer closed: the stall check decides what happens next
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
    const ctl = (abort = new AbortController());
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

  // Stats for the overlay, and the stall check: no decoded frame for STALL_MS means the JPEG path.
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
      // a closing peer
    }
    // nothing decoded for a while, or decoded but not painted while the view can be seen (the
    // browser pauses video it does not render: restart it once, then give up on the direct path)
    if (!conn || !visible) return; // out of sight nothing needs to be shown (nor judged)
    const unpainted = now - lastFrame;
    if (now - lastDecoded.t > STALL_MS || unpainted > 2 * STALL_MS) {
      fail(path === "direct" ? "direct frames stalled" : "no direct frames");
    } else if (unpainted > 1000) {
      conn.video.play().catch(() => {});
      watch(conn);
    }
  }, 1000);

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
      lastFrame = lastDecoded.t = performance.now(); // judged again from now
      update();
    },
    get active() {
      return path === "direct";
    },
    // overlay values while direct (fps/rtt/jitter/loss/frame age from RTCPeerConnection.getStats())
    stats: () => (path === "direct" ? { ...live, view_path: "direct" } : {}),
    close() {
      closed = true;
      clearInterval(timer);
      for (const ev of events.split(" ")) model.off(ev, update);
      model.off("change:stats", onStats);
      if (retryTimer) clearTimeout(retryTimer);
      key = null;
      teardown();
    },
  };
}
