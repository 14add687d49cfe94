"""Offline evaluation and calibration of the detectors on recorded data sets (I/O lives here)."""
