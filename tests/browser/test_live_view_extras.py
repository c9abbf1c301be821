
"""What users expect of a live view, in real JupyterLab + headless Chromium: stats, webcam, uploads.

* the stats overlay shows the session's rtt, jitter, packet loss, fps and frame age;
* the webcam asks for 1280x720 by default (``webcam_constraints``), previews what it sends,
  offers a camera picker, and switching cameras while publishing keeps frames reaching the model;
* an upload-typed form field (Helios ``set_image.image``) sends the file through the SDK's
  upload path and the model applies it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from browser_support import Lab, kexec
from PIL import Image
from test_widget_browser import TEARDOWN, open_widget, wait_kernel_value

STAT_ROWS = ("rtt (WebRTC)", "jitter", "packet loss", "frame age", "fps received", "fps shown")


def stat(page: Any, name: str) -> str:
    return page.locator(f'.rn-stats [data-stat="{name}"] b').inner_text()


def test_stats_overlay_and_webcam_constraints_preview_and_picker(page: Any, lab: Lab) -> None:
    open_widget(page, lab, "testpattern", "extras-testpattern.ipynb")
    try:
        # stats: every row carries a number once the SDK's stats_update arrived (every 2 s)
        page.wait_for_function(
            '(rows) => rows.every((r) => { const b = document.querySelector(`.rn-stats [data-stat="${r}"] b`);'
            " return !!b && b.textContent !== '\u2013'; })",
            arg=list(STAT_ROWS),
            timeout=20000,
        )
        assert stat(page, "packet loss").endswith(" %") and stat(page, "jitter").endswith(" ms")
        assert float(stat(page, "frame age").split()[0]) >= 0

        # webcam: default constraints ask for 1280x720; the preview shows the capture
        assert kexec(page, "print(w.webcam_constraints)").strip() == (
            "{'width': {'ideal': 1280}, 'height': {'ideal': 720}}"
        )
        page.locator(".rn-webcam-toggle").click()
        page.wait_for_function(
            "() => document.querySelector('.rn-webcam-note').textContent.includes('publishing to')"
        )
        page.wait_for_function(
            "() => { const v = document.querySelector('.rn-webcam-preview');"
            " return v.classList.contains('rn-live') && v.videoWidth > 0; }"
        )
        assert page.locator(".rn-webcam-preview").get_attribute("data-size") == "1280x720"
        wait_kernel_value(page, "print(w._webcam_track.received >= 3)", "True", timeout=20)
        assert kexec(page, "print(w._webcam_track._frame.shape)").strip() == "(720, 1280, 3)"

        # camera picker: pick the (fake) device explicitly while publishing; frames keep coming
        options = page.locator(".rn-webcam-device option")
        page.wait_for_function("() => document.querySelectorAll('.rn-webcam-device option').length >= 2")
        device = options.nth(1).get_attribute("value")
        assert device
        before = int(kexec(page, "print(w._webcam_track.received)"))
        page.locator(".rn-webcam-device").select_option(device)
        wait_kernel_value(page, f"print(w._webcam_track.received >= {before + 5})", "True", timeout=20)
        wait_kernel_value(page, "print(rt.model.input_frames.get('webcam', 0) >= 5)", "True", timeout=20)
        page.locator(".rn-webcam-toggle").click()
        assert page.console_errors == []
    finally:
        kexec(page, TEARDOWN)


def test_upload_field_goes_through_the_sdk_upload_path(page: Any, lab: Lab) -> None:
    open_widget(page, lab, "helios", "extras-helios.ipynb")
    try:
        img = lab.root / "upload-ref.png"
        ramp = np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None], (200, 1, 3))
        Image.fromarray(ramp).save(img)
        form = page.locator('form[data-command="set_image"]')
        upload = form.locator('input[type=file][name="image"]')
        assert upload.is_enabled()
        upload.set_input_files(str(img))
        page.wait_for_function(
            "() => document.querySelector('form[data-command=set_image] [data-field=image] .rn-drop-note')"
            ".textContent.includes('upload-ref.png')"
        )
        form.locator("button[type=submit]").click()
        page.wait_for_function(  # the model's answer next to the form (wire v1 answers every command)
            "() => document.querySelector('form[data-command=set_image] .rn-form-result').textContent.includes('←')",
            timeout=20000,
        )
        assert form.locator(".rn-form-result").inner_text() == (
            '← image_set {"width":320,"height":200,"transition":"cut","downscaled":false}'
        )
        wait_kernel_value(page, "print(w.model_state.get('image_set'))", "True")
        events = kexec(
            page,
            "tl = reactor.frames.timeline(); print(tl[tl['name'] == 'file_uploaded']['data'].tolist())",
        )
        assert "upload-ref.png" in events and "image/png" in events
        assert page.console_errors == []
    finally:
        kexec(page, TEARDOWN)
