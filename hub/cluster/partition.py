"""Which partition a device's messages travel in: ``fnv1a32(key) % partitions``.

The same function as nats-server's ``partition(n, wildcard)`` subject mapping (FNV-1a, 32
bits, over the token's bytes), so a stream could be partitioned by the server's mapping or
by the bridge alike; ``tests/hub/cluster/test_partition.py`` checks it against a real
server. The key is the resident a device belongs to (a resident's wearable and home
sensors then meet in one worker's detectors: the activity routine and the bathroom stay are
per resident), or the device itself when it belongs to none.

Subjects: ``carehub.p.<partition>.<device>.<class>``. A NATS subject token cannot hold
``.``, which a device id may (``DEVICE_ID_RE``), so it is written as ``%2E`` there.

Pure: no I/O.

>>> fnv1a32(b"w-001")
3105206920
>>> partition_of("w-001", 64)
8
>>> subject(8, "door.1", "event")
'carehub.p.8.door%2E1.event'
"""

from __future__ import annotations

from typing import Final

FNV_OFFSET: Final = 0x811C9DC5
FNV_PRIME: Final = 0x01000193
SUBJECT_PREFIX: Final = "carehub.p"
STREAM: Final = "CAREHUB"
"""The JetStream stream holding every partition's subjects."""


def fnv1a32(data: bytes) -> int:
    """The 32-bit FNV-1a hash of ``data``."""
    h = FNV_OFFSET
    for byte in data:
        h ^= byte
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def partition_of(key: str, partitions: int) -> int:
    """The partition of ``key`` among ``partitions`` (fixed for the life of a deployment)."""
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    return fnv1a32(key.encode()) % partitions


def device_token(device_id: str) -> str:
    """``device_id`` as one subject token (``.`` → ``%2E``; ``%`` is not in a device id)."""
    return device_id.replace(".", "%2E")


def device_from_token(token: str) -> str:
    return token.replace("%2E", ".")


def subject(partition: int, device_id: str, msg_class: str) -> str:
    """The subject a device's message of ``msg_class`` is published on."""
    return f"{SUBJECT_PREFIX}.{partition}.{device_token(device_id)}.{msg_class}"


def partition_filter(partition: int) -> str:
    """The subject filter of one partition."""
    return f"{SUBJECT_PREFIX}.{partition}.>"
