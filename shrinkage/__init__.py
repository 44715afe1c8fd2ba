"""Shrinkage: measure and forecast storage weight loss of fish products from 1C reports.

The core package knows nothing of Dagster; the orchestration layer (assets/, resources/,
pipelines/) calls into it.
"""

__version__ = "0.1.0"
