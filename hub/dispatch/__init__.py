"""Location-based dispatch of community services (定位派单), pure: no I/O, an injected
``now``, plain values and numpy arrays.

- :mod:`hub.dispatch.geo` — great-circle distance and travel time.
- :mod:`hub.dispatch.hours` — a care worker's weekly working hours as absolute shifts.
- :mod:`hub.dispatch.lifecycle` — the order status machine.
- :mod:`hub.dispatch.planner` — who should take an order: eligible workers (skills, on
  duty, free for the whole visit plus travel), ranked by travel time then load; a batch
  of orders planned together never double-books anyone.

The algorithm and its cost are written up in ``docs/services.md``.
"""
