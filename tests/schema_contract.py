"""The customer's contract: section 3.2 of docs/database-plan.md (shipped in the repository),
every table and column by name, read from the document itself so the tests always check the
schema against the contract and never against a copy of it."""

import re
from pathlib import Path

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "database-plan.md"

# contract heading name -> table name (the plan's own SQL uses these snake_case names)
SEED_HEADINGS: dict[str, str] = {
    "SourceData": "source_data",
    "Nomenclature": "nomenclature",
    "CalculationData": "calculation_data",
    "Models": "models",
    "Coefficients": "coefficients",
    "Forecast": "forecasts",
    "Analytics": "analytics",
    "AIPatterns": "ai_patterns",
    "ValidationErrors": "validation_errors",
    "PriorityPeriods": "priority_periods",
    "PreliminaryForecasts": "preliminary_forecasts",
    "SurplusSpecifications": "surplus_specifications",
    "SurplusRecommendations": "surplus_recommendations",
    "SurplusPatterns": "surplus_patterns",
    "PatternValidations": "pattern_validations",
    "FeedbackPreferences": "feedback_preferences",
    "DataLineage": "data_lineage",
    "MLModelRegistry": "ml_model_registry",
}


def contract_tables(path: Path = CONTRACT) -> dict[str, list[str]]:
    """table -> its columns, in the order of the plan's section 3.2."""
    text = path.read_text(encoding="utf-8").split("### 3.2 Table Definitions")[1].split("## 4. ORM")[0]
    found = {}
    for match in re.finditer(r"#### 3\.2\.\d+ (\w+) Table\n(.*?)(?=\n#### |\Z)", text, re.S):
        rows = [ln for ln in match.group(2).splitlines() if ln.startswith("| ") and not ln.startswith("| Column")]
        found[SEED_HEADINGS[match.group(1)]] = [ln.split("|")[1].strip() for ln in rows]
    return found


SEED_TABLES: dict[str, list[str]] = contract_tables()
