"""Dagster resources: where inobhut's directories are, and the warehouse handle.

One resource for local and production use alike: the directories come from the environment
(``INOBHUT_LANDING`` … see ``inobhut.config``), so ``dagster dev``, the nightly schedule and the
``inobhut`` CLI (which exports its options into the environment) see the same places.
"""

from __future__ import annotations

import dagster as dg

from inobhut.config import Paths
from inobhut.warehouse import Warehouse


class InobhutResource(dg.ConfigurableResource):
    """Directories of one inobhut installation."""

    landing: str
    archive: str
    staging: str
    warehouse: str
    out: str

    @classmethod
    def from_env(cls) -> "InobhutResource":
        p = Paths.from_env()
        return cls(landing=str(p.landing), archive=str(p.archive), staging=str(p.staging), warehouse=str(p.warehouse), out=str(p.out))

    def paths(self) -> Paths:
        from pathlib import Path

        return Paths(Path(self.landing), Path(self.archive), Path(self.staging), Path(self.warehouse), Path(self.out))

    def warehouse_db(self) -> Warehouse:
        return Warehouse(self.paths().warehouse)
