"""Synthetic 1C batch statements of a simulated fish store, with the ground truth beside them."""

from shrinkage.demo.simulation import ShrinkageCurve, StoreSimulation, simulate_store
from shrinkage.demo.writer import main_demo_data, write_large_statement, write_statements

__all__ = [
    "ShrinkageCurve",
    "StoreSimulation",
    "main_demo_data",
    "simulate_store",
    "write_large_statement",
    "write_statements",
]
