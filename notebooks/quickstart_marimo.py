import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    from reactor_notebook import ReactorWidget

    return ReactorWidget, mo


@app.cell
def _(mo):
    mo.md("""
    # Quickstart: realtime video in a marimo notebook

    This notebook starts the **embedded runtime** with the simulated **Helios** model (no GPU, no account),
    shows the live widget, schedules prompts and watches the stream. Run it with `marimo edit` or
    `marimo run`; `marimo export html` runs it headless.

    The runtime URL comes from `$REACTOR_LOCAL_URL` (default `http://localhost:8080`);
    `ReactorWidget.local` starts the embedded runtime there when nothing is listening yet.
    """)
    return


@app.cell
def _(ReactorWidget):
    widget = ReactorWidget.local("helios")  # at $REACTOR_LOCAL_URL, else 127.0.0.1:8080
    reactor = widget.reactor  # the SDK session: reactor.frames, reactor.send_command_sync, ...
    print(f"{reactor.get_status().value}: helios at {reactor.base_url}, session {reactor.get_session_id()}")
    return reactor, widget


@app.cell
def _(mo):
    mo.md("""
    ## Watch
    The widget (`mo.ui.anywidget`) shows the live stream, command forms generated from the model's schema,
    status and errors.
    """)
    return


@app.cell
def _(mo, widget):
    mo.ui.anywidget(widget)
    return


@app.cell
def _(mo):
    mo.md("""
    ## Schedule prompts and start
    Helios generates 33-frame chunks at 24 fps (about 1.4 s per chunk). Commands are checked against the
    model's schema before they are sent; a bad one raises `CommandValidationError` naming the field.
    """)
    return


@app.cell
def _(reactor, widget):
    widget.send_command("reset")
    widget.send_command("set_seed", seed=7)
    widget.send_command("schedule_prompt", prompt="A foggy harbour at dawn", chunk=0)
    widget.send_command("schedule_prompt", prompt="Boats leave the harbour, gulls circling", chunk=2)
    widget.send_command("start")
    state = reactor.frames.wait_state(lambda s: s["current_chunk"] >= 2, timeout=30)
    print("now at chunk", state["current_chunk"], "showing", repr(state["current_prompt"]))
    return


@app.cell
def _(reactor):
    reactor.send_command_sync("set_prompt", {"prompt": "Night falls over the harbour"})  # from the next chunk
    reactor.frames.wait_state(lambda s: s["current_chunk"] >= 3, timeout=30)
    reactor.frames.record(n=6)  # state messages overtake video by a few frames: let the new chunk arrive
    reactor.frames.snapshot()
    return


@app.cell
def _(reactor):
    tl = reactor.frames.timeline()
    tl[["kind", "name", "event"]].tail(8)
    return


@app.cell
def _(mo):
    mo.md("""
    ## Your turn
    The same live widget once more: type a prompt in **set_prompt** (it shows from the next chunk),
    schedule one for a later chunk, pause or resume. Toggle **stats** for fps, latency, round trip,
    jitter and packet loss.
    """)
    return


@app.cell
def _(mo, widget):
    mo.ui.anywidget(widget)
    return


@app.cell
def _(mo):
    mo.md("""
    ## Cleaning up
    Nothing to do: stopping the notebook (closing `marimo run`/`edit`, or restarting the kernel) disconnects
    the session and stops the embedded runtime. `widget.close()` ends it earlier.
    """)
    return


if __name__ == "__main__":
    app.run()
