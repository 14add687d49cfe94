"""What the hub process loads: its resident memory is a goal (``hub_rss_mb_10k_devices``
in ``bench/rss.py``), and heavy imports are the first thing to creep in."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("scipy", "sklearn", "pandas", "matplotlib")


def test_the_running_hub_imports_no_heavy_offline_packages() -> None:
    """scipy.stats alone cost the hub process about 70 MB of resident memory for one
    function (the Theil–Sen trend, now in ``hub/detect/bp_glucose.py``)."""
    code = (
        "import sys, carehub.serve, carehub.cli, dashboard.app\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
