"""A throwaway SDK client process: connect to a local runtime, report frames on stdout, then idle.

Used to prove that a client that vanishes (SIGKILL) leaves nothing the runtime cannot reclaim.
Prints ``ready`` once READY and ``frames N`` as frames arrive; never disconnects by itself.
"""

from __future__ import annotations

import sys
import threading

from reactor_notebook.sdk import Reactor


def main() -> None:
    url = sys.argv[1]
    r = Reactor("testpattern", local=True, local_url=url)
    r.connect_sync()
    print("ready", flush=True)
    seq = -1
    for n in range(1, 1_000_000):
        item = r.frames.wait_next(seq, 10.0)
        if item is None:
            print("stalled", flush=True)
            continue
        seq = item[1].seq
        if n % 10 == 0:
            print(f"frames {n}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
