"""Visits (探访) and follow-ups (回访) of residents living at home: the rules, pure.

- :mod:`hub.visits.schedule`: a resident's visit plan → the visit tasks due, idempotently
  (a task's id is its resident and due date), in the station's time zone.
- :mod:`hub.visits.followups`: which resolved alarms and which hospital discharges call
  for a follow-up visit, and when.
- :mod:`hub.visits.assessment`: the fixed lists a visit record's assessment takes.
- :mod:`hub.visits.overdue`: the ``visit_overdue`` finding of a task past its window, and
  the finding that clears it.

No I/O and no clock here: ``now`` is an argument. :mod:`hub.runtime.visits` drives these
rules against the store; ``docs/visits.md`` describes them for people.
"""
