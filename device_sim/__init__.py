"""Simulated residents and devices for carehub: daily routines and physiology, wearables,
pendants, home gateways and health monitors speaking the device contract over MQTT,
scripted incidents with ground truth, scoring of the hub's alerts, and a load generator.

The simulator is a separate program: it reaches the hub only through the broker (and,
for provisioning and scoring, the store). See ``docs/simulator.md``.
"""
