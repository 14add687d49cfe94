"""The dispatch benchmark's pieces on a small district: the planner and the reference rule
it is timed against make the same choices."""

from __future__ import annotations

from bench.dispatch import H, district, fresh, reference
from hub.dispatch.planner import plan


def test_the_planner_and_its_reference_peer_choose_alike() -> None:
    jobs, staff = district(120, 25, seed=3)
    got = plan(jobs, fresh(staff), now=7 * H)
    ref = reference(jobs, fresh(staff), 7 * H)
    assert {k: p and p.worker_id for k, p in got.items()} == {
        k: p and p.worker_id for k, p in ref.items()
    }
    assert sum(p is not None for p in got.values()) > 60
