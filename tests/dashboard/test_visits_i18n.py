"""The visits vocabulary in both catalogues and in the pages: every assessment value, need,
task origin and error code of the visits API has its text in zh-CN and en, and the lists
the station page offers are the lists the API accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hub.store.protocols.visits import CADENCES, RISK_LEVELS
from hub.visits import assessment

ROOT = Path(__file__).resolve().parents[2] / "dashboard"
KEYS = (
    [f"mood.{v}" for v in assessment.MOODS]
    + [f"mobility.{v}" for v in assessment.MOBILITY]
    + [f"living.{v}" for v in assessment.LIVING]
    + [f"need.{v}" for v in assessment.NEEDS]
    + [f"visit.origin_{v}" for v in ("plan", "alarm", "discharge")]
    + [f"error.{c}" for c in ("visit_recorded", "not_done", "not_ratable", "rating_locked")]
    + ["kind.visit_overdue"]
    + [f"plan.cadence_{c}" for c in CADENCES]
    + [f"plan.weekday_{d}" for d in range(7)]
    + [f"plan.risk_{r}" for r in RISK_LEVELS]
)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_visit_value_has_its_text(lang: str) -> None:
    catalogue = json.loads((ROOT / "i18n" / f"{lang}.json").read_text("utf-8"))
    assert [k for k in KEYS if not catalogue.get(k, "").strip()] == []


def test_the_page_offers_what_the_api_accepts() -> None:
    js = (ROOT / "static" / "visits.js").read_text("utf-8")
    for name, values in (("MOODS", assessment.MOODS), ("MOBILITY", assessment.MOBILITY),
                         ("LIVING", assessment.LIVING), ("NEEDS", assessment.NEEDS)):  # fmt: skip
        m = re.search(rf"export const {name} = \[([^\]]*)\]", js)
        assert m is not None, name
        assert tuple(re.findall(r'"([a-z_]+)"', m.group(1))) == values, name
