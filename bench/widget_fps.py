"""Widget benchmark: frames shown in a real JupyterLab page, latency, bytes and kernel CPU; jupyter_rfb as reference.

For each source (testpattern 640x384@24 with the runtime in a kernel thread, and 1280x720@30
with the runtime in its own process, over real WebRTC) it measures, in headless Chromium, both
paths of ReactorWidget: the direct view (the page joins the runtime's session itself and the
browser decodes the video; widget/direct.py) and the kernel's JPEG path (``direct=False``):

* fps shown: draws counted in page JS over the window;
* latency kernel→screen p50/p95: the frame index code read from the drawn pixels, matched
  with the time that frame arrived in the kernel (SDK frame callback);
* bytes/s sent to the page and kernel CPU per shown frame (whole kernel process, and the part
  above the baseline of just receiving the stream); JPEG frames the kernel sent in the window;
* fps shown while a cell runs ``time.sleep(5)`` (acks on the widget's subshell, and forced onto
  the blocked main shell so only the time-based fallback keeps the view moving);
* jupyter_rfb 1.x (window 2 and 4) fed the same frames, as reference;
* the whole chain's CPU in every window, per process (bench/proc_cpu.py, from /proc): the
  runtime (in the kernel at 640x384, where its CPU counts as the kernel's; its own process at
  1280x720; ``--runtime-in-kernel`` / ``--runtime-apart`` place it so for both sources), the
  kernel (SDK + widget), the Jupyter server, Chromium (all its processes), the Playwright driver
  and this script.

Usage: ``python bench/widget_fps.py [--seconds 8] [--only 640] [--runtime-in-kernel | --runtime-apart]``.
Prints the machine's load, then two tables from the same run: frames/latency, and CPU by process
(percent of one core).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

from browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    kernel_ready,
    kexec,
    run_all,
    run_lab,
    write_notebook,
)
from proc_cpu import ChainCPU, below, tree  # noqa: E402
from soak import Runtime  # noqa: E402

SOURCES = [(640, 384, 24, True), (1280, 720, 30, False)]  # (w, h, fps, runtime in the kernel)
JS_DIRECT = "() => (window.__reactorWidgets || []).some((e) => e.direct && e.direct.path === 'direct')"
CHAIN: list[ChainCPU] = []  # set in main(): the processes sampled in every measurement window

SETUP = """\
import time, json, resource, asyncio, threading
import ipywidgets
from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget
box = ipywidgets.VBox([])
box"""

# kernel-side helpers, executed once the box is displayed
HELPERS = """\
arrivals = {}
def _on_frame(frame):
    arrivals[read_index(frame)] = time.time() * 1000.0
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
kloop = asyncio.get_running_loop()

def make_rfb(window):
    import jupyter_rfb
    class Feed(jupyter_rfb.RemoteFrameBuffer):
        def get_frame(self):
            ref = reactor.frames.latest_ref()
            return None if ref is None else ref[0]
    w = Feed(max_buffered_frames=window)
    w.css_width = f"{W}px"; w.css_height = f"{H}px"
    stop = threading.Event()
    def feed():
        seq = -1
        while not stop.is_set():
            item = reactor.frames.wait_next(seq, 0.2)
            if item is None:
                continue
            seq = item[1].seq
            kloop.call_soon_threadsafe(w.request_draw)
    threading.Thread(target=feed, daemon=True).start()
    w._bench_stop = stop
    return w
"""

SOURCE = """\
W, H, FPS = {w}, {h}, {fps}
rt_url = {url!r}
if rt_url is None:  # the runtime in a kernel thread
    rt = LocalRuntime(model="testpattern", port=0, model_options={{"width": W, "height": H}}, fps=FPS).start()
    rt_url = rt.url
reactor = Reactor("testpattern", local=True, local_url=rt_url)
reactor.set_frame_callback(_on_frame)
reactor.connect_sync()
"""

# page-side collector: every draw of our canvas (hook) and every jupyter_rfb <img> load, with the index code
PAGE_COLLECTOR = """() => {
  if (window.__bench) return;
  const scratch = document.createElement('canvas'); scratch.width = 256; scratch.height = 16;
  const sctx = scratch.getContext('2d', {willReadFrequently: true});
  function decode(d, w) {
    let index = 0;
    for (let b = 0; b < 16; b++) {
      const o = (8 * w + b * 16 + 8) * 4;
      index = (index << 1) | ((d[o] + d[o + 1] + d[o + 2]) / 3 > 127 ? 1 : 0);
    }
    return index;
  }
  const bench = window.__bench = {draws: [], reset() { this.draws = []; }};
  setInterval(() => {
    for (const e of window.__reactorWidgets || []) {
      if (e.debug.hook) continue;
      e.debug.hook = (canvas, msg, now) => {
        const ctx = canvas.getContext('2d');
        const d = ctx.getImageData(0, 0, 256, 16).data;
        bench.draws.push({t: now, index: decode(d, 256), kind: 'ours', sent_at: msg.sent_at, bytes: 0});
      };
    }
    for (const img of document.querySelectorAll('.jp-OutputArea img')) {
      if (img.__benched) continue;
      img.__benched = true;
      img.addEventListener('load', () => {
        const now = Date.now();
        if (!img.naturalWidth || img.naturalWidth < 256) return;
        sctx.drawImage(img, 0, 0, 256, 16, 0, 0, 256, 16);
        bench.draws.push({t: now, index: decode(sctx.getImageData(0, 0, 256, 16).data, 256), kind: 'rfb'});
      });
    }
  }, 100);
}"""


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q / 100 * len(s)))]


def measure(page: Any, seconds: float, during: str | None = None) -> dict[str, Any]:
    """Reset the page collector, wait (or run ``during`` in the kernel), return draws and kernel numbers."""
    before = json.loads(
        kexec(page, "print(json.dumps({'cpu': cpu(), 't': time.time(), 'seq': reactor.frames.seq}))")
    )
    page.evaluate("() => window.__bench.reset()")
    cpu0 = CHAIN[0].snapshot() if CHAIN else None
    t0 = time.time()
    if during:
        kexec(page, during)
    else:
        page.wait_for_timeout(seconds * 1000)
    t1 = time.time()
    chain = ChainCPU.percent(cpu0, CHAIN[0].snapshot()) if cpu0 is not None else {}
    draws = page.evaluate("() => window.__bench.draws")
    after = json.loads(
        kexec(
            page,
            "print(json.dumps({'cpu': cpu(), 't': time.time(), 'seq': reactor.frames.seq, "
            "'arrivals': {str(k): v for k, v in arrivals.items()}}))",
        )
    )
    recv = (after["seq"] - before["seq"]) / max(1e-3, after["t"] - before["t"])
    return {
        "draws": draws,
        "span": t1 - t0,
        "cpu": after["cpu"] - before["cpu"],
        "arrivals": after["arrivals"],
        "recv": recv,
        "chain": chain,
    }


def summarise(m: dict[str, Any], kind: str) -> dict[str, Any]:
    draws = [d for d in m["draws"] if d["kind"] == kind]
    arrivals = m["arrivals"]
    lat = [d["t"] - arrivals[str(d["index"])] for d in draws if str(d["index"]) in arrivals]
    lat = [x for x in lat if -50 < x < 5000]  # guard against index wrap/mismatch
    n = len(draws)
    return {
        "fps": n / m["span"] if m["span"] > 0 else 0.0,
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "cpu_ms_per_frame": (m["cpu"] * 1000 / n) if n else None,
        "cpu_pct": 100 * m["cpu"] / m["span"],
        "recv": m["recv"],
        "n": n,
        "chain": m["chain"],
    }


def run_source(page: Any, w: int, h: int, fps: int, seconds: float, url: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    kexec(page, SOURCE.format(w=w, h=h, fps=fps, url=url))
    src = f"{w}x{h}@{fps} " + ("rt:kernel" if url is None else "rt:apart")
    page.wait_for_timeout(1500)
    base = measure(page, 4)
    base_rate = base["cpu"] / base["span"]
    rows.append(
        {
            "source": src,
            "viewer": "none (receive only)",
            "fps": None,
            "cpu_pct": 100 * base_rate,
            "recv": base["recv"],
            "chain": base["chain"],
        }
    )

    def add(viewer: str, kind: str, m: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        s = summarise(m, kind)
        above = (m["cpu"] - base_rate * m["span"]) * 1000 / s["n"] if s["n"] else None
        row = {"source": src, "viewer": viewer, **s, "cpu_ms_above_base": above, **(extra or {})}
        rows.append(row)
        return row

    # ours, direct view (the default for a keyless local runtime): the browser decodes the stream
    kexec(page, "w = ReactorWidget(reactor, window=4); box.children = [w]")
    page.wait_for_function(JS_DIRECT, timeout=30000)
    page.wait_for_timeout(2000)
    sent0 = json.loads(kexec(page, "print(json.dumps(w.pump.get_stats()))"))["sent"]
    m = measure(page, seconds)
    st = json.loads(kexec(page, "print(json.dumps(w.pump.get_stats()))"))
    add("ReactorWidget direct", "ours", m, {"quality": "native", "jpeg_sent": st["sent"] - sent0})
    m = measure(page, 5, during="time.sleep(5)")
    add("  ... during time.sleep(5)", "ours", m)
    kexec(page, "box.children = []; w.close()")

    # ours, JPEG path, window 4, with subshell
    kexec(page, "w = ReactorWidget(reactor, window=4, direct=False); box.children = [w]")
    page.wait_for_timeout(2000)
    sent0 = json.loads(kexec(page, "print(json.dumps(w.pump.get_stats()))"))["sent"]
    m = measure(page, seconds)
    st = json.loads(kexec(page, "print(json.dumps(w.pump.get_stats()))"))
    add(
        "ReactorWidget JPEG w=4",
        "ours",
        m,
        {"bytes_per_s": st["bytes_per_s"], "quality": f"q{st['quality']}x{st['scale']}",
         "pump_fps": st.get("fps_sent"), "encode_ms": st.get("encode_ms_p50"), "jpeg_sent": st["sent"] - sent0},
    )
    m = measure(page, 5, during="time.sleep(5)")
    add("  ... during time.sleep(5)", "ours", m)
    kexec(page, "box.children = []; w.close()")

    # acks forced onto the blocked main shell: only the time-based fallback carries the view
    kexec(
        page,
        "w = ReactorWidget(reactor, window=4, subshell=False, direct=False); "
        "w.comm._reply_subshell_for = lambda data, default: None; box.children = [w]",
    )
    page.wait_for_timeout(2000)
    m = measure(page, 5, during="time.sleep(5)")
    add("ReactorWidget JPEG acks on main shell, sleep(5)", "ours", m)
    kexec(page, "box.children = []; w.close()")

    for window in (2, 4):
        kexec(page, f"r = make_rfb({window}); box.children = [r]")
        page.wait_for_timeout(2000)
        kexec(page, "r.reset_stats()")
        m = measure(page, seconds)
        rs = json.loads(kexec(page, "print(json.dumps(r.get_stats()))"))
        sent = rs.get("sent_frames") or 0
        add(f"jupyter_rfb w={window}", "rfb", m, {"quality": "q80"} | ({"rfb_sent": sent} if sent else {}))
        m = measure(page, 5, during="time.sleep(5)")
        add("  ... during time.sleep(5)", "rfb", m)
        kexec(page, "r._bench_stop.set(); box.children = []; r.close()")
    kexec(page, "reactor.disconnect_sync(); arrivals.clear()")
    if url is None:
        kexec(page, "rt.stop()")
    return rows


def fmt(v: Any, spec: str = ".1f") -> str:
    if v is None:
        return "-"
    if isinstance(v, (int, float)):
        return format(v, spec)
    return str(v)


def print_chain(rows: list[dict[str, Any]]) -> None:
    """The whole chain's CPU per process in each window of the table above (percent of one core)."""
    roles = [r for r in ("runtime", "kernel", "Jupyter server", "Chromium", "Playwright driver", "this script")
             if any(r in row.get("chain", {}) for row in rows)]
    print(f"\nCPU by process, % of one core ({os.cpu_count()} cores; rt:kernel = the runtime's CPU counts as the kernel's)")
    head = f"{'source':<22} {'viewer':<44} " + " ".join(f"{r:>12}" for r in roles) + f" {'chain':>7} {'machine %':>9}"
    print(head)
    print("-" * len(head))
    for row in rows:
        chain = row.get("chain") or {}
        if not chain:
            continue
        total = sum(chain.get(r, 0.0) for r in roles if r not in ("Playwright driver", "this script"))
        print(f"{row['source']:<22} {row['viewer']:<44} " + " ".join(f"{chain.get(r, 0.0):12.0f}" for r in roles)
              + f" {total:7.0f} {total / (os.cpu_count() or 1):9.0f}")
    print("chain = runtime + kernel + Jupyter server + Chromium (the benchmark's driver and script excluded); "
          "machine % = chain / cores.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="measurement window per viewer")
    ap.add_argument("--only", type=int, default=None, help="only the source of this width")
    place = ap.add_mutually_exclusive_group()
    place.add_argument("--runtime-in-kernel", action="store_true",
                       help="run the runtime in a kernel thread for both sources (its CPU then counts as the kernel's)")
    place.add_argument("--runtime-apart", action="store_true", help="run the runtime in its own process for both sources")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)")
    from playwright.sync_api import sync_playwright

    root = pathlib.Path(tempfile.mkdtemp(prefix="widget-bench-"))
    write_notebook(root, "bench.ipynb", [SETUP])
    rows: list[dict[str, Any]] = []
    with run_lab(root) as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(lab.notebook_url("bench.ipynb"))
        kernel_ready(page)
        run_all(page)
        page.wait_for_selector(".widget-vbox", state="attached", timeout=60000)
        kexec(page, HELPERS)
        page.evaluate(PAGE_COLLECTOR)
        kernel_pid = int(kexec(page, "import os; print(os.getpid())").strip())
        me = os.getpid()
        roles = {"kernel": tree(kernel_pid), "Jupyter server": lambda: [lab.proc.pid],
                 "Chromium": below(me, lambda name: name.startswith("chrom")),
                 "Playwright driver": below(me, lambda name: name == "node"), "this script": lambda: [me]}
        for w, h, fps, in_kernel in SOURCES:
            if args.only and w != args.only:
                continue
            in_kernel = (in_kernel or args.runtime_in_kernel) and not args.runtime_apart
            rt = None if in_kernel else Runtime(
                "testpattern", fps, ["--model-option", f"width={w}", "--model-option", f"height={h}"])
            CHAIN[:] = [ChainCPU({**({"runtime": tree(rt.proc.pid)} if rt else {}), **roles})]
            try:
                rows += run_source(page, w, h, fps, args.seconds, rt.url if rt else None)
            finally:
                if rt is not None:
                    rt.stop()
        browser.close()

    head = f"{'source':<22} {'viewer':<44} {'fps recv':>8} {'fps shown':>9} {'lat p50':>8} {'lat p95':>8} {'kB/s':>7} {'kernel CPU%':>11} {'ms CPU/frame':>12} {'above base':>10} {'jpeg':>8} {'pump fps':>8} {'encode ms':>9} {'jpeg sent':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        kbs = r.get("bytes_per_s")
        print(
            f"{r['source']:<22} {r['viewer']:<44} {fmt(r.get('recv')):>8} {fmt(r.get('fps')):>9} {fmt(r.get('p50'), '.0f'):>8} {fmt(r.get('p95'), '.0f'):>8} "
            f"{fmt(kbs / 1024 if kbs else None, '.0f'):>7} {fmt(r.get('cpu_pct'), '.0f'):>11} {fmt(r.get('cpu_ms_per_frame'), '.1f'):>12} "
            f"{fmt(r.get('cpu_ms_above_base'), '.1f'):>10} {fmt(r.get('quality')):>8} "
            f"{fmt(r.get('pump_fps')):>8} {fmt(r.get('encode_ms'), '.2f'):>9} {fmt(r.get('jpeg_sent'), 'd'):>9}"
        )
    print_chain(rows)
    print(
        "\nfps recv = frames decoded by the SDK in the kernel; latency = kernel frame arrival (SDK callback) → drawn in the page, matched by the frame index code; "
        "CPU = whole kernel process; 'above base' subtracts the receive-only rate; pump fps = frames the widget "
        "sent to the page (its own 2 s window), encode ms = JPEG encode p50, jpeg sent = JPEG frames the kernel "
        "sent in the window (direct: the kernel encodes none); direct latency is the kernel's arrival → the page's "
        "draw of the same frame index, both receivers fed by the runtime at once."
    )
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")


if __name__ == "__main__":
    main()
