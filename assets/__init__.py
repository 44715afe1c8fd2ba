"""Dagster assets: thin wrappers over the core that return metadata."""

from assets.ingestion import INGESTION_ASSETS, normalised_tables, parsed_reports, validated_reports

__all__ = ["INGESTION_ASSETS", "normalised_tables", "parsed_reports", "validated_reports"]
