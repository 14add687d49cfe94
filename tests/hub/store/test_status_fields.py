"""A device's status message describes the device; it never changes what decides access."""

from __future__ import annotations

from hub.registry.provisioning import provision_device
from hub.store.base import Device, IngestBatch, StatusChange, Store

T0 = 1_767_225_600.0


def test_birth_message_does_not_rewrite_vendor(store: Store) -> None:
    provision_device(store, Device("w-1", "wearable", vendor="Acme"))
    info = {"vendor": "Rival", "model": "W2", "firmware": "2.1"}
    store.write_batch(IngestBatch(status=[StatusChange("w-1", True, T0, "birth", info)]))
    [device] = [d for d in store.list_devices() if d.id == "w-1"]
    assert device.vendor == "Acme"  # decides what a vendor's users may see
    assert (device.model, device.firmware) == ("W2", "2.1")  # descriptive fields follow
