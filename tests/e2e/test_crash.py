"""Issue 10, the standing crash test in its short mode: 3 rounds of `kill -9` during 50 concurrent uploads of
every format (scripts/crash_test.py runs 20 and more by hand). After each restart nothing acknowledged is
lost, nothing half-written is visible, and the start-up sweep leaves no orphan blob."""

import sys
from pathlib import Path

from harness import FIGURES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import crash_test  # noqa: E402


def test_kill_9_during_uploads_loses_nothing_and_leaves_no_orphan(tmp_path):
    figures = crash_test.run(rounds=3, per_round=50, workdir=tmp_path, say=lambda line: None)
    assert figures.lost == 0
    assert figures.orphans_reclaimed == figures.orphans_found
    FIGURES.append(figures.summary())
