"""Every Helios command's bad inputs: reason, field and message; nothing changes on rejection."""

from __future__ import annotations

import pytest
from helios_support import b64, data_url, events, image_bytes, rejected, started, states

from reactor_notebook.runtime.models.helios_sim import HeliosSim
from reactor_notebook.runtime.models.helios_spec import COMMANDS

PROMPT_COMMANDS = ("set_prompt", "schedule_prompt", "set_conditioning")


def _base(command: str, png: str) -> dict:
    """Valid arguments for a prompt command (to break one field at a time)."""
    return {
        "set_prompt": {},
        "schedule_prompt": {"chunk": 0},
        "set_conditioning": {"image_b64": png},
    }[command]


@pytest.mark.parametrize("command", PROMPT_COMMANDS)
@pytest.mark.parametrize(
    ("prompt", "reason", "message"),
    [
        ("   \n\t", "invalid_value", "value '   \\n\\t' is blank; a prompt needs at least one non-whitespace character"),
        ("", "out_of_range", "length 0 is below the minimum length 1"),
        ("x" * 2001, "out_of_range", "length 2001 exceeds the maximum length 2000"),
        (42, "wrong_type", "expected string, got int 42"),
        (None, "wrong_type", "expected string, got NoneType None"),
    ],
)
def test_bad_prompts(command: str, prompt: object, reason: str, message: str, png: str) -> None:
    sim = HeliosSim()
    err = rejected(sim, command, {**_base(command, png), "prompt": prompt})
    assert (err.command, err.field, err.reason) == (command, "prompt", reason)
    assert str(err) == f"{command}: field 'prompt': {message}"


def test_prompt_of_2000_chars_is_fine_and_missing_prompt_is_named() -> None:
    sim = HeliosSim()
    sim.apply("set_prompt", {"prompt": "y" * 2000})
    assert sim.scheduled[0] == "y" * 2000
    err = rejected(sim, "set_prompt", {})
    assert (err.reason, err.field, str(err)) == (
        "missing_field",
        "prompt",
        "set_prompt: field 'prompt': required field is missing (string)",
    )


@pytest.mark.parametrize(
    ("chunk", "reason", "fragment"),
    [
        (-1, "out_of_range", "value -1 is out of range (0 to 1000000)"),
        (1_000_001, "out_of_range", "value 1000001 is out of range (0 to 1000000)"),
        ("3", "wrong_type", "expected integer, got str '3'"),
        (True, "wrong_type", "expected integer, got bool True"),
        (2.5, "wrong_type", "expected integer, got non-integral number 2.5"),
    ],
)
def test_bad_chunks(chunk: object, reason: str, fragment: str) -> None:
    err = rejected(HeliosSim(), "schedule_prompt", {"prompt": "p", "chunk": chunk})
    assert (err.field, err.reason) == ("chunk", reason)
    assert str(err) == f"schedule_prompt: field 'chunk': {fragment}"


def test_integral_float_chunk_is_accepted_and_normalised() -> None:
    sim = HeliosSim()
    msgs = sim.apply("schedule_prompt", {"prompt": "p", "chunk": 2.0})
    assert events(msgs)[0]["chunk"] == 2 and isinstance(events(msgs)[0]["chunk"], int)
    assert states(msgs)[0]["scheduled_prompts"] == {"2": "p"}


def test_unknown_command_and_unexpected_field() -> None:
    sim = HeliosSim()
    err = rejected(sim, "rewind", {})
    assert err.reason == "unknown_command" and "known commands: clear_image, pause, reset" in str(err)
    err = rejected(sim, "start", {"now": True})
    assert (err.reason, err.field) == ("unexpected_field", "now")
    assert str(err) == "start: field 'now': unexpected field; allowed fields: none"
    err = rejected(sim, "set_prompt", {"prompt": "p", "chunk": 1})
    assert str(err) == "set_prompt: field 'chunk': unexpected field; allowed fields: prompt"


@pytest.mark.parametrize(
    ("args", "field", "reason", "fragment"),
    [
        ({}, "image_b64", "invalid_value", "give exactly one of 'image_b64' or 'image' (neither given)"),
        ({"transition": "cut"}, "image_b64", "invalid_value", "(neither given)"),
        ({"image_b64": "@@@not base64@@@"}, "image_b64", "invalid_value", "not valid base64"),
        ({"image_b64": b64(b"hello world, not an image")}, "image_b64", "invalid_value", "could not decode 25 bytes"),
        ({"image_b64": "data:image/png,abc"}, "image_b64", "invalid_value", "is not base64-encoded"),
        ({"image_b64": "data:image/png;base64"}, "image_b64", "invalid_value", "has no ','"),
        ({"image_b64": b64(image_bytes(fmt="GIF"))}, "image_b64", "invalid_value", "format GIF is not supported"),
        ({"image_b64": b64(image_bytes(fmt="BMP"))}, "image_b64", "invalid_value", "allowed formats: PNG, JPEG, WebP"),
        ({"image_b64": b64(image_bytes(4097, 8))}, "image_b64", "invalid_value", "image is 4097x8 px; the maximum is 4096"),
        ({"image_b64": b64(image_bytes(8, 5000))}, "image_b64", "invalid_value", "image is 8x5000 px"),
        ({"image_b64": b64(image_bytes()), "transition": "fade"}, "transition", "not_in_enum",
         "value 'fade' is not one of: 'cut', 'blend'"),
        ({"image_b64": 12}, "image_b64", "wrong_type", "expected string, got int 12"),
        ({"image_b64": ""}, "image_b64", "out_of_range", "length 0 is below the minimum length 1"),
        ({"image": {"upload_id": "nope", "name": "a.png", "mime_type": "image/png", "size": 3}}, "image",
         "unknown_upload", "is not a completed, announced upload"),
    ],
)
@pytest.mark.parametrize("command", ["set_image", "set_conditioning"])
def test_bad_images(command: str, args: dict, field: str, reason: str, fragment: str) -> None:
    sim = HeliosSim()
    sim.apply("schedule_prompt", {"prompt": "before", "chunk": 0})
    if command == "set_conditioning":
        args = {"prompt": "new", **args}
    err = rejected(sim, command, args)
    assert (err.command, err.field, err.reason) == (command, field, reason)
    assert str(err).startswith(f"{command}: field '{field}': ") and fragment in str(err)
    assert sim.scheduled == {0: "before"} and sim.image is None  # atomic: no half-applied conditioning


def test_both_image_forms_at_once_is_rejected(png: str) -> None:
    err = rejected(HeliosSim(), "set_image", {"image_b64": png}, uploads={"image": image_bytes()})
    assert err.reason == "invalid_value" and "(both given)" in str(err)


def test_corrupt_upload_is_invalid_value_on_field_image() -> None:
    err = rejected(HeliosSim(), "set_image", {}, uploads={"image": b"\x89PNG\r\n\x1a\n broken"})
    assert (err.field, err.reason) == ("image", "invalid_value") and "could not decode" in str(err)


@pytest.mark.parametrize(
    ("command", "args", "field", "reason", "fragment"),
    [
        ("set_image_strength", {"image_strength": 1.5}, "image_strength", "out_of_range", "value 1.5 is out of range (0 to 1)"),
        ("set_image_strength", {"image_strength": -0.1}, "image_strength", "out_of_range", "(0 to 1)"),
        ("set_image_strength", {"image_strength": "1"}, "image_strength", "wrong_type", "expected number, got str '1'"),
        ("set_image_strength", {"image_strength": float("nan")}, "image_strength", "invalid_value", "finite"),
        ("set_image_strength", {}, "image_strength", "missing_field", "required field is missing (number)"),
        ("set_sr_scale", {"sr_scale": "8x"}, "sr_scale", "not_in_enum", "value '8x' is not one of: 'off', '2x', '4x'"),
        ("set_sr_scale", {"sr_scale": 2}, "sr_scale", "not_in_enum", "value 2 is not one of"),
        ("set_seed", {"seed": -2}, "seed", "out_of_range", "value -2 is out of range (-1 to 4294967295)"),
        ("set_seed", {"seed": 2**32}, "seed", "out_of_range", "value 4294967296 is out of range"),
        ("set_seed", {"seed": "7"}, "seed", "wrong_type", "expected integer, got str '7'"),
        ("set_seed", {"seed": False}, "seed", "wrong_type", "expected integer, got bool False"),
    ],
)
def test_bad_settings(command: str, args: dict, field: str, reason: str, fragment: str) -> None:
    err = rejected(HeliosSim(), command, args)
    assert (err.command, err.field, err.reason) == (command, field, reason)
    assert fragment in str(err)


def test_rejections_while_running_change_nothing(png: str) -> None:
    sim = started()
    for _ in range(40):
        sim.step()
    before = sim.state()
    for command, args in [
        ("start", {}),
        ("schedule_prompt", {"prompt": "p", "chunk": 0}),
        ("set_image", {"image_b64": "xx"}),
        ("set_conditioning", {"prompt": " ", "image_b64": png}),
        ("set_seed", {"seed": -5}),
    ]:
        rejected(sim, command, args)
    assert sim.state() == before and sim.look(2) is None


def test_every_command_has_a_description_and_declared_ranges() -> None:
    table = {c.name: c for c in COMMANDS}
    assert set(table) == {
        "set_prompt", "schedule_prompt", "set_image", "clear_image", "set_conditioning", "set_image_strength",
        "set_sr_scale", "set_seed", "start", "pause", "resume", "reset",
    }
    assert all(c.description for c in COMMANDS)
    chunk = table["schedule_prompt"].param("chunk")
    assert (chunk.type, chunk.minimum, chunk.maximum) == ("integer", 0, 1_000_000)
    assert table["set_image"].param("image").is_upload and table["set_image"].one_of == (("image_b64", "image"),)
    assert table["set_image"].param("transition").default == "cut"
    seed = table["set_seed"].param("seed")
    assert (seed.minimum, seed.maximum) == (-1, 4_294_967_295)


def test_data_url_and_raw_base64_both_work() -> None:
    sim = HeliosSim()
    for arg in (data_url(image_bytes(fmt="JPEG"), "image/jpeg"), b64(image_bytes(fmt="WEBP"))):
        assert states(sim.apply("set_image", {"image_b64": arg}))[0]["image_set"] is True
