"""The customer's contract: seed section 3.2, every table and column by name (a copy, so that
the tests fail if the schema drops one; test_schema checks the copy against the seed when present)."""

SEED_TABLES: dict[str, list[str]] = {
    "source_data": [
        "id", "file_name", "file_path", "upload_date", "file_hash", "processed",
        "quality_score",
    ],
    "nomenclature": [
        "id", "name", "product_type", "product_type_code", "created_date", "validation_flags",
    ],
    "calculation_data": [
        "id", "source_data_id", "nomenclature_id", "initial_balance", "incoming", "outgoing",
        "final_balance", "storage_days", "calculation_date", "data_quality_flag",
        "inventory_confidence", "inventory_period_start", "inventory_period_end",
        "is_valid_inventory_period", "is_preliminary_forecast", "preliminary_period_end",
        "human_error_probability", "validation_errors", "manual_review_required",
        "pre_shrinkage_days", "pre_shrinkage_amount", "adjusted_shrinkage_rate",
        "inventory_shrinkage_total", "actual_deduction_batch", "fifo_principle_applied",
        "fifo_batch_sequence",
    ],
    "models": [
        "id", "name", "model_type", "description", "version", "created_date",
    ],
    "coefficients": [
        "id", "calculation_data_id", "model_id", "coefficient_a", "coefficient_b",
        "coefficient_c", "accuracy_r2", "calculation_date", "adjusted_for_pre_shrinkage",
        "pre_shrinkage_factor", "effective_shrinkage_rate",
    ],
    "forecasts": [
        "id", "coefficient_id", "forecast_value", "actual_value", "deviation", "forecast_date",
    ],
    "analytics": [
        "id", "nomenclature_id", "model_id", "avg_accuracy", "total_calculations",
        "period_start", "period_end", "last_updated",
    ],
    "ai_patterns": [
        "id", "pattern_type", "description", "confidence_level", "affected_nomenclature",
        "discovery_date", "pattern_data",
    ],
    "validation_errors": [
        "id", "calculation_data_id", "error_type", "description", "severity_level",
        "detected_by", "detection_date", "resolved", "resolution_date", "notes",
    ],
    "priority_periods": [
        "id", "period_start", "period_end", "priority_level", "description", "created_by",
        "created_date", "active",
    ],
    "preliminary_forecasts": [
        "id", "calculation_data_id", "forecast_model_id", "forecast_period_days",
        "expected_shrinkage", "confidence_level", "forecast_date", "actual_shrinkage",
        "forecast_accuracy", "notes", "pre_shrinkage_adjusted", "adjusted_expected_shrinkage",
        "batch_storage_history",
    ],
    "surplus_specifications": [
        "id", "nomenclature_id", "surplus_percentage", "specification_start_date",
        "specification_end_date", "is_active", "created_date", "created_by", "notes",
    ],
    "surplus_recommendations": [
        "id", "nomenclature_id", "recommended_surplus_percentage", "confidence_level",
        "analysis_period_start", "analysis_period_end", "calculation_method",
        "supporting_data", "created_date", "is_accepted", "acceptance_date",
    ],
    "surplus_patterns": [
        "id", "nomenclature_id", "product_type", "surplus_percentage", "pattern_condition",
        "is_active", "created_date", "created_from_recommendation_id", "validation_count",
        "last_validated_date", "confidence_level", "feedback_count", "last_feedback_date",
    ],
    "pattern_validations": [
        "id", "surplus_pattern_id", "validation_date", "actual_surplus_percentage",
        "predicted_surplus_percentage", "deviation", "validation_result", "user_feedback",
        "is_confirmed", "confirmation_date",
    ],
    "feedback_preferences": [
        "id", "feedback_frequency", "auto_confirm_threshold", "is_active", "created_date",
        "updated_date",
    ],
    "data_lineage": [
        "id", "source_file_id", "calculation_data_id", "process_name", "process_timestamp",
        "user_id", "input_records", "output_records", "status", "error_message",
        "execution_time_ms", "version",
    ],
    "ml_model_registry": [
        "id", "model_name", "version", "algorithm_type", "parameters", "training_date",
        "accuracy_metrics", "is_active", "created_by", "created_date", "notes",
    ],
}

# seed heading name -> table name (the seed's own SQL uses these snake_case names)
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
