// The frame-index code (16 black/white blocks, top left) is for analysis, not for people: unless
// `show_index_code` is set, a small canvas laid over it repeats the picture row just below the
// code, so the view looks clean while the frame itself (and every pixel read from the main
// canvas) keeps the code. When shown, a caption says what the blocks are.

const CODE_W = 256; // 16 blocks of 16 px (reactor_notebook.framecode)
const CODE_H = 16;
const SOURCE_ROW = CODE_H + 3; // a row clear of the code's JPEG ringing

export const CODE_EXPLAINED =
  "The black-and-white blocks at the top left encode the frame number (16 bits, reactor_notebook.framecode.read_index) so order, loss and latency can be measured from pixels; set show_index_code=False to cover them.";

/**
 * @param {import("./messages.js").ReactorModel} model
 * @param {HTMLElement} wrap
 * @param {HTMLCanvasElement} canvas
 */
export function createCodeCover(model, wrap, canvas) {
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

  function render() {
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
        render();
      }
      if (present && !model.get("show_index_code") && canvas.width >= CODE_W && canvas.height > SOURCE_ROW) {
        cctx.drawImage(canvas, 0, SOURCE_ROW, CODE_W, 1, 0, 0, CODE_W, CODE_H);
        if (sizeChanged) place();
      }
    },
    render() {
      render();
      place();
    },
    place,
    close() {
      if (ro) ro.disconnect();
    },
  };
}
