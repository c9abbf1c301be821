"""Step messages on wire v1: request and result dicts through the real v1 codec, and frame checks."""

from __future__ import annotations

import numpy as np
import pytest

from reactor_notebook.protocol import steps, v1


def test_request_round_trips_through_the_v1_codec() -> None:
    cam = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    body = steps.encode_request({"prompt": "fox", "seed": 7}, [("start", {})], {"webcam": [cam, cam + 1]})
    raw = v1.encode_data_client({"request_id": "r1", "kind": "request", "request_step": body})
    back = v1.decode_data_client(raw)["request_step"]
    state, commands, media = steps.decode_request(back)
    assert state == {"prompt": "fox", "seed": 7.0}  # a Struct number is a double on the wire
    assert commands == [("start", {}, {})]
    ((track, frames),) = media
    assert track == "webcam" and [f.tolist() for f in frames] == [cam.tolist(), (cam + 1).tolist()]


def test_result_and_refusal_round_trip() -> None:
    video = np.random.default_rng(1).integers(0, 255, (4, 6, 8, 3), dtype=np.uint8)
    result = steps.step_result(3, {"main_video": list(video)}, 0.25, 24.0)
    assert steps.media_bytes(result) == video.nbytes
    raw = v1.encode_data_server({"request_id": "r1", "kind": "response", "step_result": result})
    got = steps.decode_result(v1.decode_data_server(raw)["step_result"])
    assert got.failure is None and got.step == 3 and got.elapsed == 0.25 and got.rates == {"main_video": 24.0}
    assert np.array_equal(got.frames["main_video"], video)
    refused = steps.refusal("REFUSED", "state.x is refused: no", "state.x", "unknown_command")
    raw = v1.encode_data_server({"request_id": "r2", "kind": "response", "step_result": refused})
    got = steps.decode_result(v1.decode_data_server(raw)["step_result"])
    assert (got.failure, got.entry, got.code, got.step) == ("REFUSED", "state.x", "unknown_command", 0)


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        ({"encoding": "h264", "dtype": "uint8", "shape": [2, 2, 3], "data": b""}, "frame encoding 'h264' is not supported"),
        ({"encoding": "raw", "dtype": "float32", "shape": [2, 2, 3], "data": b""}, "is uint8, not 'float32'"),
        ({"encoding": "raw", "dtype": "uint8", "shape": [2, 2], "data": b"1234"}, "(height, width, 3), got shape [2, 2]"),
        ({"encoding": "raw", "dtype": "uint8", "shape": [2, 2, 3], "data": b"12"}, "is 12 bytes, got 2"),
    ],
)
def test_bad_frames_name_the_entry(frame: dict[str, object], text: str) -> None:
    body = {"media_input": [{"track": "webcam", "kind": "video", "frames": [frame]}]}
    with pytest.raises(steps.StepWireError) as info:
        steps.decode_request(body)
    assert info.value.entry == "media_input[0].frames[0]" and text in str(info.value)
