-- Base layer of the analytical relations: one row per store and product (or per model) and period.
--
-- Written once for the three databases; shrinkage.db.analytics_views fills the placeholders:
--   create    CREATE VIEW (SQLite) | CREATE MATERIALIZED VIEW (PostgreSQL)
--                | CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous) (TimescaleDB)
--   options   the continuous-aggregate options (TimescaleDB only)
--   grain     weekly | monthly: a statement that names it is written once per grain
--   bucket_COL the start of COL's period at that grain (the Monday 00:00 of its week,
--             the first day 00:00 of its month)
--   month_COL the first day 00:00 of its month (statements written for one grain only)
--   finish    WITH DATA | WITH NO DATA (continuous aggregates fill on refresh) | nothing
-- No joins here: continuous aggregates stay per (warehouse_id, nomenclature_id) / model_id,
-- and the store and product names and types come from views on top (views.sql), so renaming
-- or re-classifying a product shows at once without re-materialising history. Shrinkage is
-- a property of a product in a store, so stores are never summed together here.

${create} agg_product_${grain}${options} AS
SELECT ${bucket_calculation_date} AS bucket,
       warehouse_id,
       nomenclature_id,
       count(*) AS calc_rows,
       sum(initial_balance) AS initial_balance,
       sum(incoming) AS incoming,
       sum(outgoing) AS outgoing,
       sum(final_balance) AS final_balance,
       sum(inventory_shrinkage_total) AS shrinkage_kg,
       sum(adjusted_shrinkage_rate) AS rate_sum,
       count(adjusted_shrinkage_rate) AS rate_count,
       sum(CASE WHEN manual_review_required THEN 1 ELSE 0 END) AS review_rows
FROM calculation_data
GROUP BY ${bucket_calculation_date}, warehouse_id, nomenclature_id ${finish};

${create} agg_forecast_model_monthly${options} AS
SELECT ${month_forecast_date} AS bucket,
       model_id,
       count(*) AS forecasts,
       count(actual_value) AS with_actual,
       sum(accuracy) AS accuracy_sum,
       count(accuracy) AS accuracy_count,
       sum(abs(deviation)) AS abs_deviation_sum,
       count(deviation) AS deviation_count
FROM forecasts
GROUP BY ${month_forecast_date}, model_id ${finish};
