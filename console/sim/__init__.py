"""A local GWS simulator (REST + Bayeux on loopback) for the console, its tests and demos."""

from __future__ import annotations

from console.sim.bayeux import BayeuxSettings
from console.sim.catalog import SAMPLE_DEVICE_ID, Campaign, Catalog, Device, Place, User
from console.sim.faults import FaultError, Faults
from console.sim.server import Simulator, load_fault_file
from console.sim.settings import GwsSettings, SettingError

__all__ = [
    "SAMPLE_DEVICE_ID", "BayeuxSettings", "Campaign", "Catalog", "Device", "FaultError", "Faults",
    "GwsSettings", "Place", "SettingError", "Simulator", "User", "load_fault_file",
]
