"""A local GWS simulator (REST + Bayeux on loopback) for the console, its tests and demos."""

from __future__ import annotations

from console.sim.bayeux import BayeuxSettings
from console.sim.catalog import SAMPLE_DEVICE_ID, Campaign, Catalog, Device, User
from console.sim.faults import FaultError, Faults
from console.sim.server import Simulator, load_fault_file

__all__ = [
    "SAMPLE_DEVICE_ID", "BayeuxSettings", "Campaign", "Catalog", "Device", "FaultError", "Faults",
    "Simulator", "User", "load_fault_file",
]
