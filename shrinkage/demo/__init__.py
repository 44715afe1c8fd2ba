"""Synthetic 1C batch statements of simulated fish stores, with the ground truth beside them.

``simulate_store`` is the plain store (weekly exact counts); ``simulate_chain`` the realistic
chain of stores (``shrinkage demo-data --realistic``).
"""

from shrinkage.demo.chain import ChainSimulation, RealisticParams, StoreProfile, simulate_chain
from shrinkage.demo.simulation import ShrinkageCurve, StoreSimulation, simulate_store
from shrinkage.demo.writer import main_demo_data, write_chain, write_large_statement, write_reexport, write_statements

__all__ = [
    "ChainSimulation",
    "RealisticParams",
    "ShrinkageCurve",
    "StoreProfile",
    "StoreSimulation",
    "main_demo_data",
    "simulate_chain",
    "simulate_store",
    "write_chain",
    "write_large_statement",
    "write_reexport",
    "write_statements",
]
