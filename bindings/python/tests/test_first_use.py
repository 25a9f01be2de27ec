"""First use with an empty cache: the installed wheel alone builds,
compiles and caches the sandbox image, saying so on stderr (~15-35 s)."""

import os
import subprocess
import sys


def test_first_use_builds_the_image_with_progress_then_reuses_it(tmp_path):
    env = dict(os.environ, ERYX_CACHE_DIR=str(tmp_path / "cache"))
    code = "import eryx; print(eryx.Sandbox().execute('print(6 * 7)').stdout, end='')"
    first = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == "42\n"
    assert "eryx: preparing the Python sandbox (first run only" in first.stderr
    assert any((tmp_path / "cache").rglob("*.cwasm"))
    again = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and again.stdout == "42\n"
    assert "preparing" not in again.stderr
