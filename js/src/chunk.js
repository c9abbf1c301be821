// Chunk fields of Helios-like models (an integer `chunk` with a huge schema range): the value
// follows the next open chunk until the user edits it, and the slider spans a window from that
// chunk onward instead of 0..1,000,000 (the number box still takes any value the schema allows).
// The model's chunk counter is the state key its profile names (`profile.chunk_key`); without
// one the window starts at chunk 0.

export const WINDOW = 32; // chunks the slider spans (about 44 s of Helios video at 24 fps)

/**
 * @param {Object<string, *>|null} st  the model_state trait
 * @param {string|null|undefined} key  the state key of the model's chunk counter
 * @returns {number|null}
 */
function currentChunk(st, key) {
  const cur = st && key ? st[key] : null;
  return Number.isFinite(cur) ? cur : null;
}

/**
 * @param {Object<string, *>|null} st  the model_state trait
 * @param {string|null|undefined} key  the state key of the model's chunk counter
 * @returns {number}
 */
export function firstOpenChunk(st, key) {
  // The model's rule: while running the current chunk is already rendering, so the next is open.
  const cur = currentChunk(st, key);
  if (cur === null) return 0;
  return st.running ? cur + 1 : cur;
}

/**
 * @param {Object<string, *>|null} st  the model_state trait
 * @param {import("./messages.js").FieldSpec} p
 * @param {string|null|undefined} key  the state key of the model's chunk counter
 * @returns {{open: number, lo: number, hi: number}}
 */
export function chunkWindow(st, p, key) {
  const open = Math.max(p.minimum ?? 0, firstOpenChunk(st, key));
  const hi = Math.min(p.maximum ?? Number.MAX_SAFE_INTEGER, open + WINDOW);
  return { open, lo: open, hi };
}

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {{p: import("./messages.js").FieldSpec, row: HTMLElement}} field
 * @returns {{update: () => void, release: () => void}|null}
 */
export function attachChunkField(model, field) {
  const p = field.p;
  if (p.name !== "chunk" || p.type !== "integer" || p.kind !== "slider") return null;
  const range = field.row.querySelector('input[type="range"]');
  const exact = field.row.querySelector('input[type="number"]');
  if (!range || !exact) return null;
  const hint = document.createElement("div");
  hint.className = "rn-help rn-chunk-hint";
  field.row.insertBefore(hint, field.row.querySelector(".rn-field-error"));
  let edited = false;
  const mark = () => (edited = true);
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
    },
  };
}
