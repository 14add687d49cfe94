"""The status machine of a service order.

::

    open ──▶ assigned ──▶ accepted ──▶ arrived ──▶ done
      │        │  ▲          │
      │        └──┘ (re-     │ (staff reassign before arrival: back to assigned)
      ▼           assign)    ▼
    cancelled ◀───────────── (any status before arrival)

Staff assign (confirming the dispatcher's proposal or overriding it) and may reassign or
cancel until the worker arrives; the worker accepts, checks in on arrival and closes the
order with notes.

>>> check_transition("open", "assigned")
>>> check_transition("done", "open")
Traceback (most recent call last):
...
hub.dispatch.lifecycle.OrderTransitionError: an order that is done cannot become open
"""

from __future__ import annotations

from typing import Final

from hub.errors import CarehubError

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "open": frozenset({"assigned", "cancelled"}),
    "assigned": frozenset({"assigned", "accepted", "cancelled"}),
    "accepted": frozenset({"assigned", "arrived", "cancelled"}),
    "arrived": frozenset({"done"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}
ACTIVE: Final = frozenset({"assigned", "accepted", "arrived"})
"""Statuses in which an order holds its worker's time."""


class OrderTransitionError(CarehubError):
    """An order cannot make that status change."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: str, wanted: str) -> None:
    """Nothing when ``current`` → ``wanted`` is allowed; :class:`OrderTransitionError` else."""
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise OrderTransitionError(current, wanted)
