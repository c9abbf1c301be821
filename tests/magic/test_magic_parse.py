"""Pure parsing rules of the %reactor magic: tokens, values, durations, directives, completion."""

from __future__ import annotations

import pytest
from magic_support import HELIOS_COMMANDS

from reactor_notebook.magic.complete import complete
from reactor_notebook.magic.parse import (
    MagicSyntaxError,
    parse_amount,
    parse_directive,
    parse_kwargs,
    parse_value,
    script_lines,
    split_raw,
)


def test_split_raw_keeps_quotes_and_brackets_and_drops_comments() -> None:
    assert split_raw('schedule_prompt prompt="A # sunset" chunk=2  # later') == [
        "schedule_prompt",
        'prompt="A # sunset"',
        "chunk=2",
    ]
    assert split_raw("x v=[1, 2, {'a': 3}] w='it\\'s'") == ["x", "v=[1, 2, {'a': 3}]", "w='it\\'s'"]
    assert split_raw("# only a comment") == []
    assert split_raw("a b#c") == ["a", "b#c"]
    with pytest.raises(MagicSyntaxError, match="unterminated"):
        split_raw('set_prompt prompt="open')


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("42", 42),
        ("-1", -1),
        ("2.5", 2.5),
        ("true", True),
        ("True", True),
        ("null", None),
        ('"42"', "42"),
        ("'A sunset'", "A sunset"),
        ('"A sunset"', "A sunset"),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ("sunset", "sunset"),
        ("2024-01-01", "2024-01-01"),
        ("", ""),
    ],
)
def test_values_parse_as_json_then_python_then_text(raw: str, value: object) -> None:
    assert parse_value(raw) == value
    assert type(parse_value(raw)) is type(value)


def test_kwargs_need_key_value_and_name_the_problem() -> None:
    assert parse_kwargs(["prompt='A b'", "chunk=2"]) == {"prompt": "A b", "chunk": 2}
    assert parse_kwargs(["expr=a=b"]) == {"expr": "a=b"}
    with pytest.raises(MagicSyntaxError, match="set_color: expected key=value, got 'red'"):
        parse_kwargs(["red"], "set_color")
    with pytest.raises(MagicSyntaxError, match="given twice"):
        parse_kwargs(["r=1", "r=2"], "set_color")
    with pytest.raises(MagicSyntaxError, match="not a valid name"):
        parse_kwargs(["1x=1"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3s", (None, 3.0)),
        ("500ms", (None, 0.5)),
        ("2.5 s", (None, 2.5)),
        ("30", (30, None)),
        ("30f", (30, None)),
    ],
)
def test_amounts(text: str, expected: tuple[int | None, float | None]) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "3x", "1.5", "0", "0s", "-2s"])
def test_bad_amounts(bad: str) -> None:
    with pytest.raises(MagicSyntaxError, match="record"):
        parse_amount(bad)


def test_script_lines_skip_blanks_and_comments_and_keep_line_numbers() -> None:
    lines = script_lines("\n# c\nstart\n\n  @chunk 2  \n")
    assert [(sl.lineno, sl.text) for sl in lines] == [(3, "start"), (5, "@chunk 2")]


def test_directives() -> None:
    assert parse_directive("@chunk 2") == ("chunk", 2)
    assert parse_directive("@frame 100  # wait") == ("frame", 100)
    assert parse_directive("@sleep 0.5s") == ("sleep", 0.5)
    assert parse_directive("@timeout 60") == ("timeout", 60.0)
    with pytest.raises(MagicSyntaxError, match="unknown directive '@chunks'"):
        parse_directive("@chunks 2")
    with pytest.raises(MagicSyntaxError, match="whole number"):
        parse_directive("@chunk 2.5")
    with pytest.raises(MagicSyntaxError, match="takes one number"):
        parse_directive("@frame")
    with pytest.raises(MagicSyntaxError, match="positive"):
        parse_directive("@chunk -1")


def test_completion_candidates() -> None:
    cmds = HELIOS_COMMANDS
    assert "schedule_prompt" in complete("sch", cmds)
    assert {"set_color", "set_image", "set_prompt", "set_seed"} <= set(complete("set_", cmds))
    assert "connect" in complete("", cmds) and "record" in complete("", cmds)
    assert complete("schedule_prompt prompt='x' ", cmds) == ["chunk="]
    assert complete("set_color r=1 ", cmds) == ["g=", "b="]
    assert complete("connect --", cmds) == ["--local", "--api-key-env", "--model", "--url", "--name", "--start", "--exclusive", "--stepped"]
    assert complete("connect --model ", cmds) == ["helios", "testpattern"]
    assert complete("prompt 'x' --", cmds) == ["--chunk"]
    assert complete("send set_c", cmds) == ["set_color"]
    assert complete("send set_color g=0 ", cmds) == ["r=", "b="]
    assert complete("@ch", cmds) == ["@chunk"]
    assert complete("nothing ", cmds) == []
