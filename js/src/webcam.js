// Webcam → model: getUserMedia frames drawn to a canvas, encoded as JPEG and sent to the
// kernel as binary custom messages at a capped fps, with a small ack window of its own.
// Shown only when the model declares an input video track (e.g. testpattern's `webcam`).

const WINDOW = 2;
const ACK_TIMEOUT_MS = 1000;

export function createWebcam(model, root, send, debug) {
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
  box.append(btn, note, video);
  root.append(box);
  const canvas = document.createElement("canvas");

  let stream = null;
  let timer = null;
  let nextId = 1;
  const inFlight = new Map(); // id -> sent time
  let active = false;
  let track = null;

  function renderButton() {
    const inputs = model.get("input_tracks") || [];
    box.style.display = inputs.length ? "" : "none";
    track = inputs[0] || null;
    btn.textContent = stream ? `■ stop webcam (${track})` : `● webcam → ${track}`;
    btn.disabled = model.get("status") !== "ready" && !stream;
  }

  async function start() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (e) {
      note.textContent = `camera unavailable: ${e.message || e}`;
      stream = null;
      return renderButton();
    }
    video.srcObject = stream;
    video.classList.add("rn-live");
    await video.play().catch(() => {});
    note.textContent = "publishing…";
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
    timer = setTimeout(loop, 1000 / fps);
    const now = performance.now();
    for (const [id, t] of inFlight) if (now - t > ACK_TIMEOUT_MS) inFlight.delete(id);
    if (inFlight.size >= WINDOW || video.readyState < 2) return;
    const w = video.videoWidth || 640, h = video.videoHeight || 480;
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    const id = nextId++;
    inFlight.set(id, now);
    canvas.toBlob(
      async (blob) => {
        if (!blob || !active) return inFlight.delete(id);
        const buf = await blob.arrayBuffer();
        send({ type: "webcam_frame", id, width: w, height: h }, [buf]);
        debug.webcamSent += 1;
      },
      "image/jpeg",
      0.75,
    );
  }

  btn.addEventListener("click", () => (stream ? stop() : start()));

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
