"""Numeric limits of the device contract v1 (published in docs/device-contract.md)."""

from __future__ import annotations

MAX_PAYLOAD_BYTES = 64 * 1024
"""Largest accepted payload; larger ones are refused with ``payload_too_large``."""

MAX_PACKET_BYTES = 256 * 1024
"""Largest MQTT packet the brokers we configure take (``max_packet_size``): above it the
broker drops the message and closes the connection (MQTT 5: reason 0x95, Packet too large).
Room above :data:`MAX_PAYLOAD_BYTES` so that a slightly oversized payload still reaches the
hub and is refused with ``payload_too_large``, which tells the vendor what is wrong."""

MAX_ACC_SAMPLES = 2000
"""Longest accelerometer burst: 10 s at 200 Hz."""

ACC_HZ_RANGE = (20.0, 200.0)
"""Accepted accelerometer sampling rates, in Hz."""

MAX_ACC_G = 32.0
"""Largest accepted |component| of an acceleration sample, in g."""

RATE_PER_S = 20.0
"""Sustained messages per second per device (token bucket refill rate)."""

RATE_BURST = 100
"""Messages a device may send at once before the rate limit applies."""

UNCLAIMED_PER_GATEWAY = 32
"""Unknown sub-device ids of one gateway listed for claiming per hour; more are counted
(``carehub_unclaimed_not_listed``) and summed up in the gateway's error report."""

UNCLAIMED_DIRECT = 1000
"""Unknown device and gateway ids (not a gateway's sub-devices) listed per hour, together."""

REPORT_INTERVAL_S = 5.0
"""At most one error report per publisher and code in this many seconds; the next report
says how many refusals were not reported in between (``suppressed``)."""

MAX_SEQ = 2**53 - 1
"""``seq`` must fit a JSON number without losing precision."""

SEQ_WINDOW = 1024
"""How far behind the newest ``seq`` a message may arrive and still be deduplicated."""

TS_MIN = 1_577_836_800.0
"""2020-01-01T00:00:00Z: an earlier device time means the clock was never set."""

TS_MAX_AHEAD_S = 86_400.0
"""Device time more than a day ahead of the hub is refused as implausible."""

CLOCK_SKEW_WARN_S = 120.0
"""A device clock off by more than this is reported (warning ``clock_skew``)."""

MAX_TEXT = 128
"""Longest free-text field (room names, firmware versions, ...)."""

MAX_EXT_BYTES = 2048
"""Largest vendor extension object ``ext`` once serialised."""

MAX_EXT_INT = 2**63 - 1
"""Largest |integer| inside ``ext``: a signed 64-bit integer, what the store's JSON takes."""
