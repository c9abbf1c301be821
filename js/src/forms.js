// Command forms generated from the `commands` trait (ParamSpec dicts with a `kind`):
// slider+exact input for bounded numbers, number inputs, selects for enums, checkboxes,
// text/textarea, file picker + drag-drop for base64 images, raw JSON for anything else.
// Validation runs here first (validate.js), then in the kernel, which answers command_result.

import { attachChunkField } from "./chunk.js";
import { parseInput, validateArgs } from "./validate.js";

const MAX_IMAGE_BYTES = 140 * 1024; // a data-channel message caps near 190 KB of binary (base64 grows it by 4/3)
const MAX_IMAGE_SIDE = 1024;


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
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
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

  let get; // () => raw value for parseInput
  let set; // (v) => void
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
    range.addEventListener("input", () => (exact.value = range.value));
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
      empty.textContent = p.required ? "— choose —" : "(default)";
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
    set = (v) => (sel.value = v == null ? "" : String(v));
  } else if (p.kind === "checkbox") {
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.id = id;
    cb.name = p.name;
    control.append(cb);
    get = () => cb.checked;
    set = (v) => (cb.checked = !!v);
  } else if (p.kind === "textarea" || p.kind === "json") {
    const ta = document.createElement("textarea");
    ta.id = id;
    ta.name = p.name;
    ta.rows = p.kind === "json" ? 3 : 2;
    if (p.kind === "json") ta.placeholder = "JSON value";
    if (p.maxLength != null) ta.maxLength = p.maxLength + 1; // one over, so the length error can show
    ta.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    control.append(ta);
    get = () => ta.value;
    set = (v) => (ta.value = v == null ? "" : p.kind === "json" ? JSON.stringify(v) : String(v));
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
        // sent as raw bytes with the submission; the kernel uploads it through the SDK
        value = { __upload: true, file: f, name: f.name, type: f.type, size: f.size };
        if (f.type.startsWith("image/")) thumb.src = URL.createObjectURL(f);
        else thumb.removeAttribute("src");
        note.textContent = `${f.name} (${Math.round(f.size / 1024)} KB, uploaded on submit)`;
        return;
      }
      note.textContent = "reading…";
      try {
        const { b64, size, type } = await fileToBase64(f);
        value = b64;
        thumb.src = `data:${type};base64,${b64}`;
        note.textContent = `${f.name} (${Math.round(size / 1024)} KB${size < f.size ? ", resized" : ""})`;
      } catch (e) {
        value = undefined;
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
      file.removeAttribute("accept"); // any file type: the model's schema decides
      note.textContent = "drop a file or choose one (uploaded on submit)";
    }
    get = () => value;
    set = (v) => {
      value = v ?? undefined;
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
    set = (v) => (inp.value = v == null ? "" : String(v));
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
    },
  };
}

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} root
 * @param {import("./messages.js").Send} send
 * @param {import("./commands.js").CommandBook} commands  where the forms' results come back
 */
export function createForms(model, root, send, commands) {
  const box = document.createElement("div");
  box.className = "rn-forms";
  root.append(box);
  let forms = new Map(); // command name -> controller

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
      },
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
      ctl.setResult(files.length ? "uploading…" : "sending…");
      sendCommand(id, cmd.name, args, files).catch((e) => {
        commands.drop(id);
        submit.disabled = false;
        ctl.setResult(`cannot read file: ${e}`, false);
      });
    });
    return ctl;
  }

  // Upload fields travel as binary buffers next to the command; the kernel uploads them through
  // the SDK and puts the resulting file references in their place.
  /**
   * @param {string} id
   * @param {string} name
   * @param {Object<string, *>} args
   * @param {Array<[string, {file: File, name: string, type: string}]>} files
   */
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

  function render() {
    const cmds = (model.get("commands") || []).filter((c) => !c.transport);
    const sig = JSON.stringify(cmds);
    if (sig === box.dataset.sig) return;
    box.dataset.sig = sig;
    box.replaceChildren();
    forms = new Map();
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

  /**
   * A form's command was answered.
   * @param {*} ctl  the form's controller
   * @param {import("./messages.js").CommandResult} msg
   */
  function onResult(ctl, msg) {
    ctl.form.querySelector("button[type=submit]").disabled = false;
    if (msg.ok) {
      // the model may already have rejected it (its error can overtake this reply): keep that visible
      if (!ctl.form.querySelector(".rn-form-result.rn-bad")) ctl.setResult(replyText(msg.reply), true);
      ctl.released();
    }
    else ctl.showError(msg.error);
  }

  // The model's reply to the command when it sent one within the kernel's short wait.
  function replyText(reply) {
    if (!reply || !reply.type) return "sent ✓";
    let name = reply.type;
    let body = reply.data ?? {};
    if (name === "event" && body && typeof body.event === "string") {
      // Helios's legacy family: show the event by its name, as the magic does
      ({ event: name, ...body } = body);
    }
    const data = JSON.stringify(body);
    return `← ${name} ${data.length > 120 ? data.slice(0, 119) + "…" : data}`;
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

  render();
  return { render, showModelError, onState, forms: () => forms };
}
