"""evckit: VMware EVC and vMotion compatibility for vSphere estates.

Which EVC mode can a host run, which mode does a cluster need and which hosts hold it back, where can
each VM be live-migrated and if not exactly why, and what changes if you buy CPU X.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from evckit.analysis import Analysis, ClusterResult, Reason, VMResult, analyze
from evckit.catalog import Catalog
from evckit.cpuid import CpuidDump, NamedFeatures, parse_cpu_data, read_cpu_data
from evckit.errors import DataError, EvckitError, InputError, SnapshotError, UnknownCpuError, UnknownModeError
from evckit.features import Feature, FeatureRegistry, FeatureSet
from evckit.hardware import HardwareTable
from evckit.hosts import CpuProfile, HostVerdict, assess, profile_from_data, profile_from_name
from evckit.inventory import VM, Cluster, Host, Inventory, load_inventories, load_snapshot, parse_snapshot
from evckit.modes import EvcMode, ModeTable

try:
    __version__ = version("evckit")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"

__all__ = [
    "VM",
    "Analysis",
    "Catalog",
    "Cluster",
    "ClusterResult",
    "CpuProfile",
    "CpuidDump",
    "Host",
    "HostVerdict",
    "Inventory",
    "NamedFeatures",
    "Reason",
    "VMResult",
    "analyze",
    "assess",
    "load_inventories",
    "load_snapshot",
    "parse_cpu_data",
    "parse_snapshot",
    "profile_from_data",
    "profile_from_name",
    "read_cpu_data",
    "DataError",
    "EvcMode",
    "EvckitError",
    "Feature",
    "FeatureRegistry",
    "FeatureSet",
    "HardwareTable",
    "InputError",
    "ModeTable",
    "SnapshotError",
    "UnknownCpuError",
    "UnknownModeError",
    "__version__",
]
