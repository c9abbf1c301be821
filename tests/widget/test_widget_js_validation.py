"""Browser validation (js/src/validate.js, run in node) agrees with schema.validate_param on reason and message."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
from typing import Any

import pytest
from widget_support import helios_like_commands

from reactor_notebook.schema import CommandValidationError, validate_command
from reactor_notebook.widget.forms import form_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]
VALIDATE_JS = ROOT / "js" / "src" / "validate.js"

CASES: list[tuple[str, dict[str, Any]]] = [
    ("schedule_prompt", {"prompt": "sea", "chunk": 3}),
    ("schedule_prompt", {"prompt": "sea", "chunk": -1}),
    ("schedule_prompt", {"prompt": "sea", "chunk": 1001}),
    ("schedule_prompt", {"prompt": "sea", "chunk": 2.5}),
    ("schedule_prompt", {"prompt": "sea"}),
    ("schedule_prompt", {"prompt": "", "chunk": 1}),
    ("set_prompt", {"prompt": "x" * 21}),
    ("set_prompt", {"prompt": "ünïcødé"}),
    ("set_image", {"image_b64": "AAAA", "transition": "wipe"}),
    ("set_image", {"image_b64": "AAAA"}),
    ("set_image_strength", {"image_strength": 1.5}),
    ("set_image_strength", {"image_strength": 0.25}),
    ("set_seed", {"seed": "7"}),
    ("flag", {"on": 1}),
    ("flag", {"on": True, "extra": {"a": [1]}}),
]

NODE_SCRIPT = """
import { validateArgs } from %s;
const forms = %s;
const cases = %s;
const out = cases.map(([name, args]) => {
  const cmd = forms.find((c) => c.name === name);
  const { errors } = validateArgs(cmd, args);
  const first = cmd.params.map((p) => p.name).find((n) => errors[n]);
  return first ? { field: first, reason: errors[first].reason, message: `${name}: field '${first}': ${errors[first].message}` } : null;
});
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_js_and_python_validation_agree(tmp_path: pathlib.Path) -> None:
    forms = form_spec(helios_like_commands())
    script = tmp_path / "check.mjs"
    script.write_text(NODE_SCRIPT % (json.dumps(VALIDATE_JS.as_uri()), json.dumps(forms), json.dumps(CASES)))
    res = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=30, check=True)
    js = json.loads(res.stdout)
    for (name, args), got in zip(CASES, js, strict=True):
        try:
            validate_command(helios_like_commands(), name, args)
            expected = None
        except CommandValidationError as exc:
            expected = {"field": exc.field, "reason": exc.reason, "message": str(exc)}
        assert got == expected, f"{name} {args}: js {got} != python {expected}"
