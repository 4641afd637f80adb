"""`pmed demo` runs end to end on a fresh home, and a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_demo(home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMED_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "pmed", "demo", "--patients", "40", "--seed", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_builds_a_store_and_shows_a_patient(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "home")
    assert first.returncode == 0, first.stderr
    assert "resources:" in first.stdout
    assert "Risk scores" in first.stdout
    assert "Pharmacogenomics" in first.stdout
    assert "pmed serve" in first.stdout
    assert (tmp_path / "home" / "pmed.sqlite").exists()
    second = run_demo(tmp_path / "home")
    assert second.returncode == 0, second.stderr
    assert (
        second.stdout.split("resources:")[1].split("\n")[0]
        == first.stdout.split("resources:")[1].split("\n")[0]
    )
