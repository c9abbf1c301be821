"""The quickstart: stream the embedded Helios simulation and report what arrived.

``python -m reactor_notebook.quickstart`` executes ``notebooks/01_quickstart.ipynb`` headless
when the repository's notebooks are present (``--script`` skips the notebook and drives the SDK
directly), then prints a short report; ``--lab`` opens JupyterLab on the notebooks instead.
Everything runs against the embedded runtime: no account, no GPU, no network.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_script(seconds: float, port: int) -> dict[str, Any]:
    """Start the runtime, connect, schedule two prompts, stream ``seconds`` and summarise the frames."""
    from . import framecode
    from .runtime import LocalRuntime
    from .sdk import Reactor

    with LocalRuntime(model="helios", port=port) as rt:
        reactor = Reactor("helios", local=True, local_url=rt.url)
        t0 = time.monotonic()
        reactor.connect_sync()
        ready_s = time.monotonic() - t0
        try:
            reactor.send_command_sync("set_seed", {"seed": 7})
            reactor.send_command_sync("schedule_prompt", {"prompt": "A foggy harbour at dawn", "chunk": 0})
            reactor.send_command_sync("schedule_prompt", {"prompt": "Boats leave the harbour", "chunk": 1})
            reactor.send_command_sync("start", {})
            first = reactor.frames.seq
            time.sleep(seconds)  # the stream runs on the SDK's own thread meanwhile
            frames = [(f, m) for f, m in reactor.frames.frames() if m.seq > first]
            state = reactor.model_state or {}
        finally:
            reactor.disconnect_sync()
    indices = [framecode.read_index(f) for f, _ in frames]
    span = frames[-1][1].arrival_mono - frames[0][1].arrival_mono if len(frames) > 1 else 0.0
    return {
        "connect_to_ready_s": round(ready_s, 3),
        "frames": len(frames),
        "shape": frames[-1][0].shape if frames else None,
        "fps": round((len(frames) - 1) / span, 1) if span else 0.0,
        "first_index": indices[0] if indices else None,
        "last_index": indices[-1] if indices else None,
        "current_chunk": state.get("current_chunk"),
        "current_prompt": state.get("current_prompt"),
    }


def run_notebook(path: Path, timeout: int) -> None:
    """Execute a notebook headless with nbclient (outputs are not written back)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        raise RuntimeError(f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    print(f"executed {path.name}: {len(nb.cells)} cells, no errors")


def main(argv: list[str] | None = None) -> int:
    """Command line: run the quickstart notebook (or ``--script``), print the report; 0 if frames came."""
    parser = argparse.ArgumentParser(prog="python -m reactor_notebook.quickstart", description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="how long to stream (default 4)")
    parser.add_argument("--port", type=int, default=0, help="runtime port for --script (default: ephemeral)")
    parser.add_argument("--script", action="store_true", help="drive the SDK directly, skip the notebook")
    parser.add_argument("--lab", action="store_true", help="open JupyterLab on the notebooks instead")
    args = parser.parse_args(argv)
    if args.lab:
        return subprocess.call([sys.executable, "-m", "jupyter", "lab", str(NOTEBOOKS)])
    notebook = NOTEBOOKS / "01_quickstart.ipynb"
    if not args.script and notebook.exists():
        os.environ.setdefault("REACTOR_QUICKSTART_SECONDS", str(args.seconds))
        run_notebook(notebook, timeout=180)
    report = run_script(args.seconds, args.port)
    width = max(len(k) for k in report)
    print("reactor_notebook quickstart (embedded runtime, simulated Helios)")
    for key, value in report.items():
        print(f"  {key:<{width}}  {value}")
    ok = report["frames"] > 0 and report["current_prompt"] is not None
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
