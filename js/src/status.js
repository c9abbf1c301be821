// Status badge, error panel with Retry, and the subshell notice.

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} root
 * @param {import("./messages.js").Send} send
 */
export function createStatus(model, root, send) {
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
    retryNote.textContent = "reconnecting…";
    send({ type: "retry" });
  });

  function render() {
    const status = model.get("status") || "disconnected";
    badge.textContent = status;
    badge.dataset.status = status;
    badge.className = `rn-badge rn-${status}`;
    const sid = model.get("session_id");
    const name = model.get("model_name");
    info.textContent = [name, sid ? `session ${sid}` : null].filter(Boolean).join(" · ");
    const err = model.get("last_error");
    if (err && err.code && status !== "ready") {
      error.style.display = "";
      errText.textContent = `[${err.component || "api"}] ${err.code}: ${err.message}`;
      retry.style.display = err.recoverable ? "" : "none";
    } else if (status === "disconnected" && name) {
      error.style.display = "";
      errText.textContent = sid
        ? `Disconnected; session ${sid} is kept for a while, Retry reconnects to it (or starts a new one).`
        : "Disconnected. Retry connects a new session.";
      retry.style.display = "";
    } else {
      error.style.display = "none";
    }
    root.classList.toggle("rn-not-ready", status !== "ready");
    notice.textContent = model.get("kernel_subshells")
      ? ""
      : "This kernel has no subshells: frame acks and form replies may lag while a cell runs (frames keep flowing at a reduced rate).";
    notice.style.display = model.get("kernel_subshells") ? "none" : "";
    const others = model.get("shared_clients") || 0;
    shared.textContent = others > 0 && sid
      ? `Shared session: ${others} other client${others === 1 ? "" : "s"} (another notebook?) use${others === 1 ? "s" : ""} session ${sid}; their commands reach the same model, and this one will not stop it on disconnect.`
      : "";
    shared.style.display = shared.textContent ? "" : "none";
  }

  function onRetryResult(msg) {
    retrying = false;
    retry.disabled = false;
    retryNote.textContent = msg.ok ? "" : `retry failed: ${msg.message || "unknown error"}`;
  }

  render();
  return { render, onRetryResult, tools };
}
