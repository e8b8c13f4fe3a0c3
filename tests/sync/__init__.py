"""Tests of the sync core (cockpit/sync)."""

import os

FUZZ = float(os.environ.get("COCKPIT_FUZZ", "1"))
"""Scales every example count: COCKPIT_FUZZ=20 runs the long campaign."""
