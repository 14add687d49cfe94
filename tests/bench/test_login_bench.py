"""Smoke test of ``bench/login.py`` with a handful of logins, so the benchmark does not rot
between runs: a real server process, real parallel logins. It checks that every login
succeeds and the figures are there, not how fast anything was."""

from __future__ import annotations

import pytest

from bench import login

pytestmark = [pytest.mark.slow]


def test_a_small_login_flood_measures_every_figure() -> None:
    results, statuses, got = login.measure(logins=4)
    assert statuses == {200: 4}
    assert set(results) == {
        "healthz_idle_p50_ms", "healthz_login_flood_p50_ms", "healthz_login_flood_max_ms",
        "api_me_login_flood_p50_ms", "api_me_login_flood_max_ms", "login_flood_4_s",
    }  # fmt: skip
    assert all(v > 0 for v in results.values())
    assert got.healthz and got.me and len(got.idle) == 20
