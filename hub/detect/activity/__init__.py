"""Activity of a resident at home from motion, door, bed and toilet sensors.

State is kept per **resident** (a home has several sensors, usually behind one gateway) and
the detector assumes one monitored person per home. Everything is pure: the hub passes the
events with times already on its own clock (device time minus the estimated clock offset,
see :meth:`SensorEvent.from_accepted`) and calls :meth:`ActivityDetector.tick` periodically.
While the resident's status is not ``home`` no finding fires and nothing is learned.

One module per rule, each with its own docstring:

- :mod:`~hub.detect.activity.routine`: the learned routine (activity per local hour, get-up
  times, the morning deadline);
- :mod:`~hub.detect.activity.silence`: ``inactivity`` and ``not_up``;
- :mod:`~hub.detect.activity.presence`: leaving and coming home, ``night_exit``;
- :mod:`~hub.detect.activity.bathroom`: ``long_bathroom``;
- :mod:`~hub.detect.activity.bed`: ``out_of_bed``;
- :mod:`~hub.detect.activity.detector`: :class:`ActivityDetector`, which feeds them.

Every finding has ``activity_resumed`` (low, evidence ``clears``) as its counterpart when
the person it was about is active again, so the alert can clear.

Thresholds are operational defaults, not clinical evidence: the literature motivates *what*
is watched (falls in older people happen mostly at home and often in the bathroom or at
night, Stevens et al., J Safety Res 42(4), 2011; night-time wandering in dementia, Rowe &
Glover, Am J Alzheimers Dis Other Demen 16(6), 2001), but the minutes are tuned per
resident by the care station.

**Horizon.** Every rule that fires on the *absence* of an event (a silence, a stay not
ended, a return that did not come) judges time only up to ``min(now, horizon)``:
``horizon`` is the receive time of the oldest message the hub holds but has not passed on
yet (a backlog, a slow commit, a store outage), and beyond it the detector cannot know
that nothing happened. Findings are stamped ``now``; their minutes count up to the horizon.
"""

from hub.detect.activity.clock import LocalTime, in_window
from hub.detect.activity.detector import ActivityDetector
from hub.detect.activity.events import (
    ACTIVITY_TYPES,
    BATHROOMS,
    EXIT_DOORS,
    ResidentStatus,
    SensorEvent,
)
from hub.detect.activity.params import Params

__all__ = [
    "ACTIVITY_TYPES",
    "BATHROOMS",
    "EXIT_DOORS",
    "ActivityDetector",
    "LocalTime",
    "Params",
    "ResidentStatus",
    "SensorEvent",
    "in_window",
]
