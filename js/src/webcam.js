// Webcam → model: getUserMedia frames drawn to a canvas, encoded as JPEG and sent to the
// kernel as binary custom messages at a capped fps, with a small ack window of its own.
// Shown only when the model declares an input video track (e.g. testpattern's `webcam`).
// Constraints come from the `webcam_constraints` trait (default 1280x720); a picker lists the
// cameras (and the model's input tracks when it declares several); a live preview shows what is sent.

const WINDOW = 2;
const ACK_TIMEOUT_MS = 1000;

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} root
 * @param {import("./messages.js").Send} send
 * @param {object} debug
 */
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
  let nextId = 1;
  const inFlight = new Map(); // id -> sent time
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
      ...devices.map((d, i) => option(d.deviceId, d.label || `camera ${i + 1}`)),
    );
    if ([...camera.options].some((o) => o.value === current)) camera.value = current;
    camera.style.display = devices.length ? "" : "none";
  }

  function constraints() {
    const c = { ...(model.get("webcam_constraints") || {}) };
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
    btn.textContent = stream ? `■ stop webcam (${track})` : `● webcam → ${track}`;
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
    await video.play().catch(() => {});
    listCameras().catch(() => {}); // labels are only visible once the user allowed the camera
    const settings = stream.getVideoTracks()[0]?.getSettings?.() || {};
    video.dataset.size = settings.width ? `${settings.width}x${settings.height}` : "";
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
  target.addEventListener("change", renderButton);
  camera.addEventListener("change", async () => {
    if (!stream) return;
    // switch cameras while publishing: swap the capture stream, keep the published track
    const old = stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints());
    } catch (e) {
      note.textContent = `camera unavailable: ${e.message || e}`;
      return;
    }
    for (const t of old.getTracks()) t.stop();
    video.srcObject = stream;
    await video.play().catch(() => {});
  });
  listCameras().catch(() => {});

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
