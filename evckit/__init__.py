"""evckit: VMware EVC and vMotion compatibility for vSphere estates.

Which EVC mode can a host run, which mode does a cluster need and which hosts hold it back, where can
each VM be live-migrated and if not exactly why, and what changes if you buy CPU X.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evckit.analysis import Analysis, ClusterResult, DataConflict, Reason, VMResult, analyze
    from evckit.catalog import Catalog
    from evckit.cpuid import CpuidDump, NamedFeatures, parse_cpu_data, read_cpu_data
    from evckit.errors import (
        DataError, EvckitError, InputError, SnapshotError, UnknownCpuError, UnknownModeError,
    )
    from evckit.features import Feature, FeatureRegistry, FeatureSet
    from evckit.hardware import HardwareTable
    from evckit.assess import HostVerdict, assess
    from evckit.profiles import CpuProfile, profile_from_data, profile_from_name
    from evckit.inventory import (
        VM, Cluster, ClusterKey, Host, Inventory, load_inventories, load_snapshot, merge_inventories, parse_snapshot,
    )
    from evckit.modes import EvcMode, ModeTable

# Names are imported on first use (PEP 562), so `import evckit` stays cheap for the command line and
# for tools that need one corner of the library.
_WHERE = {
    "analysis": ("Analysis", "ClusterResult", "DataConflict", "Reason", "VMResult", "analyze"),
    "catalog": ("Catalog",),
    "cpuid": ("CpuidDump", "NamedFeatures", "parse_cpu_data", "read_cpu_data"),
    "errors": ("DataError", "EvckitError", "InputError", "SnapshotError", "UnknownCpuError", "UnknownModeError"),
    "features": ("Feature", "FeatureRegistry", "FeatureSet"),
    "hardware": ("HardwareTable",),
    "assess": ("HostVerdict", "assess"),
    "profiles": ("CpuProfile", "profile_from_data", "profile_from_name"),
    "inventory": ("VM", "Cluster", "ClusterKey", "Host", "Inventory", "load_inventories", "load_snapshot",
                  "merge_inventories", "parse_snapshot"),
    "modes": ("EvcMode", "ModeTable"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from evckit._version import version  # noqa: PLC0415

        return version()
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'evckit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"evckit.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "VM",
    "Analysis",
    "Catalog",
    "Cluster",
    "ClusterKey",
    "ClusterResult",
    "DataConflict",
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
    "merge_inventories",
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
