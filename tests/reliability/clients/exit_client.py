"""Connect (SDK + widget with its pump), stream, then let the interpreter shut down without cleanup.

Prints ``streaming`` once frames flow, then returns from main: whatever the SDK, the widget and
aiortc left running must not hang the interpreter or print errors at exit.
"""

from __future__ import annotations

import sys

from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget


def main() -> None:
    r = Reactor("testpattern", local=True, local_url=sys.argv[1])
    widget = ReactorWidget(r, subshell=False)
    r.connect_sync()
    seq = -1
    for _ in range(20):
        item = r.frames.wait_next(seq, 10.0)
        assert item is not None, "no frames"
        seq = item[1].seq
    print("streaming", widget.status, flush=True)


if __name__ == "__main__":
    main()
