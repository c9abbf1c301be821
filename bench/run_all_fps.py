"""Run All on a shipped notebook in real JupyterLab + headless Chromium: fps shown while the cells run.

Opens ``notebooks/01_quickstart.ipynb`` (or ``--notebook``) in JupyterLab with the embedded
runtime on a free port, runs every cell, and records in page JS the time of each frame drawn in
the first widget view, the kernel's busy/idle status, and the kernel's received fps (the
widget's ``stats`` trait). Prints, for the stretch while cells run and for the seconds after,
fps shown next to the fps the kernel received (the source as the kernel sees it) and the ratio.

Usage: ``python bench/run_all_fps.py [--notebook notebooks/03_colab_demo.ipynb] [--after 6]``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import socket
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser"), str(ROOT / "bench")]

from browser_support import CHROMIUM, CHROMIUM_ARGS, kernel_ready, run_all, run_lab  # noqa: E402
from proc_cpu import machine_load  # noqa: E402

COLLECT = """() => {
  const b = window.__runAll = {draws: [], busy: [], recv: []};
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  k.statusChanged.connect((_, s) => b.busy.push([performance.now(), s]));
  const hook = () => {
    for (const v of window.__reactorWidgets || []) {
      if (v.debug.hook) continue;
      // a draw counts when its view is on screen (Run All scrolls earlier outputs away)
      v.debug.hook = () => {
        const r = v.el.getBoundingClientRect();
        if (r.bottom > 0 && r.top < window.innerHeight && r.height > 0) b.draws.push(performance.now());
      };
    }
    const e = (window.__reactorWidgets || [])[0];
    if (e) {
      const st = e.model.get('stats') || {};
      if (st.fps_received != null) b.recv.push([performance.now(), st.fps_received]);
      if (window.__runAllTrace) b.trace = b.trace || [], b.trace.push([Math.round(performance.now() - b.t0),
        (window.__reactorWidgets || []).map((x) => [x.debug.received, x.debug.drawn, x.debug.superseded]),
        st.sent, st.lost, st.acked, st.quality, st.paused, st.ack_ms_p50, e.model.get('kernel_subshells'),
        k.status]);
    }
  };
  b.timer = setInterval(hook, 100);
  b.t0 = performance.now();
}"""

DONE = """(n) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const cells = nb.widgets.filter((c) => c.model.type === 'code');
  return cells.length === n && cells.every((c) => c.model.executionCount != null) &&
    window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle';
}"""


def free_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def window_stats(draws: list[float], recv: list[list[float]], t0: float, t1: float) -> dict[str, Any]:
    n = sum(1 for t in draws if t0 <= t < t1)
    src = [v for t, v in recv if t0 <= t < t1]
    span = max(1e-3, (t1 - t0) / 1000)
    shown = n / span
    source = sum(src) / len(src) if src else None
    return {"span": span, "shown": shown, "source": source, "ratio": shown / source if source else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", default=str(ROOT / "notebooks" / "01_quickstart.ipynb"))
    ap.add_argument(
        "--height", type=int, default=2400, help="page height: tall enough to see the widget while cells run"
    )
    ap.add_argument("--after", type=float, default=6.0, help="seconds to keep measuring after Run All")
    args = ap.parse_args()
    print(f"machine at the start: {machine_load()}")
    import nbformat
    from playwright.sync_api import sync_playwright

    src = pathlib.Path(args.notebook)
    n_code = sum(1 for c in nbformat.read(src, as_version=4).cells if c.cell_type == "code")
    os.environ["REACTOR_LOCAL_URL"] = free_url()  # the kernel inherits it from the Lab server
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "root"
        root.mkdir()
        shutil.copy(src, root / src.name)
        with run_lab(root) as lab, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": args.height})
            page.goto(lab.notebook_url(src.name))
            kernel_ready(page)
            if os.environ.get("RUN_ALL_TRACE"):
                page.evaluate("() => { window.__runAllTrace = true; }")
            page.evaluate(COLLECT)
            started = time.time()
            run_all(page)
            page.wait_for_function("() => window.__runAll.draws.length > 0", timeout=120000)
            first = page.evaluate("() => window.__runAll.draws[0]")
            page.wait_for_function(DONE, arg=n_code, timeout=180000, polling=200)
            done = page.evaluate("() => performance.now()")
            page.wait_for_timeout(args.after * 1000)
            end = page.evaluate("() => performance.now()")
            data = page.evaluate("() => window.__runAll")
            if os.environ.get("RUN_ALL_TRACE"):
                page.screenshot(path=str(ROOT / "test-artifacts" / "run-all-end.png"))
                print(
                    page.evaluate(
                        "() => (window.__reactorWidgets || []).map((v) => "
                        "[v.el.getBoundingClientRect().top, v.el.getBoundingClientRect().height])"
                    )
                )
            browser.close()
    draws, recv = data["draws"], data["recv"]
    if os.environ.get("RUN_ALL_TRACE"):
        for row in data.get("trace", [])[::5]:
            print(row)
    busy = window_stats(draws, recv, first + 1000, done)  # from 1 s after the first frame to the last cell
    idle = window_stats(draws, recv, done, end)
    print(f"machine at the end: {machine_load()}")
    print(f"{src.name}: Run All took {time.time() - started - args.after:.1f} s")
    print(f"{'phase':<24}{'seconds':>8}{'fps shown':>11}{'fps source':>12}{'shown/source':>14}")
    for name, s in (("while cells run", busy), ("after Run All", idle)):
        source = f"{s['source']:.1f}" if s["source"] is not None else "-"
        ratio = f"{100 * s['ratio']:.0f} %" if s["ratio"] is not None else "-"
        print(f"{name:<24}{s['span']:>8.1f}{s['shown']:>11.1f}{source:>12}{ratio:>14}")


if __name__ == "__main__":
    main()
