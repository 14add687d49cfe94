"""The telemetry-gap count in a device's state, on both back-ends: written with the
last-seen state, read back, never lowered by an older batch committed later, and fed back
into ingest after a restart so the count goes on from where it was."""

from __future__ import annotations

from hub.ingest.core import Ingest
from hub.store.base import Device, DeviceState, IngestBatch, Store
from tests.helpers.messages import Msg

T0 = 1_767_225_600.0


def seen(seq: int, gaps: int) -> IngestBatch:
    return IngestBatch(
        seen=[DeviceState("w-1", last_seen_at=T0 + seq, last_seq=seq, telemetry_gaps=gaps)]
    )


def test_telemetry_gaps_round_trip_and_only_go_up(store: Store) -> None:
    store.add_device(Device("w-1", "wearable", created_at=T0))
    store.add_device(Device("w-2", "wearable", created_at=T0))
    assert store.get_device_state("w-1").telemetry_gaps == 0  # never heard of
    store.write_batch(seen(10, 3))
    assert store.get_device_state("w-1").telemetry_gaps == 3
    store.write_batch(seen(9, 2))  # an older batch committed after a newer one
    assert store.get_device_state("w-1").telemetry_gaps == 3
    store.write_batch(seen(20, 5))
    states = {s.device_id: s for s in store.device_states()}
    assert (states["w-1"].telemetry_gaps, states["w-2"].telemetry_gaps) == (5, 0)

    # a restarted hub seeds ingest from the store and keeps counting
    ingest = Ingest(clock=lambda: T0 + 10_000)
    ingest.set_devices(store.list_devices())
    ingest.seed(store.device_states(), {})
    body = b'{"ts": 1767225600, "seq": 23, "hr": 70}'  # 21 and 22 never came
    ingest.handle(Msg("carehub/v1/devices/w-1/telemetry", body, qos=0, received_at=T0 + 30))
    store.write_batch(ingest.take().batch())
    assert store.get_device_state("w-1").telemetry_gaps == 7
