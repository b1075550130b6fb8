"""isolement: cut and restore network paths in one command during a cyber-containment."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
