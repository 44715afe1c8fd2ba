-- What analysts query: the base layer (base.sql) with product names, types and model names.
-- Identical on SQLite, PostgreSQL and TimescaleDB. Averages are recomputed from sums and
-- counts, so a product type's average weighs every calculation row equally. A statement
-- that names ${grain} is written once per grain (weekly, monthly).

CREATE VIEW shrinkage_product_${grain} AS
SELECT a.bucket AS period_start, a.nomenclature_id, n.name AS product_name, n.product_type,
       a.calc_rows, a.initial_balance, a.incoming, a.outgoing, a.final_balance, a.shrinkage_kg,
       a.rate_sum / NULLIF(a.rate_count, 0) AS avg_adjusted_shrinkage_rate, a.review_rows
FROM agg_product_${grain} a JOIN nomenclature n ON n.id = a.nomenclature_id;

CREATE VIEW shrinkage_type_${grain} AS
SELECT a.bucket AS period_start, n.product_type, count(*) AS products,
       sum(a.calc_rows) AS calc_rows, sum(a.initial_balance) AS initial_balance,
       sum(a.incoming) AS incoming, sum(a.outgoing) AS outgoing,
       sum(a.final_balance) AS final_balance, sum(a.shrinkage_kg) AS shrinkage_kg,
       sum(a.rate_sum) / NULLIF(sum(a.rate_count), 0) AS avg_adjusted_shrinkage_rate,
       sum(a.review_rows) AS review_rows
FROM agg_product_${grain} a JOIN nomenclature n ON n.id = a.nomenclature_id
GROUP BY a.bucket, n.product_type;

CREATE VIEW forecast_accuracy_monthly AS
SELECT a.bucket AS period_start, a.model_id, m.name AS model_name, m.version AS model_version,
       a.forecasts, a.with_actual,
       a.accuracy_sum / NULLIF(a.accuracy_count, 0) AS avg_accuracy,
       a.abs_deviation_sum / NULLIF(a.deviation_count, 0) AS mean_abs_deviation
FROM agg_forecast_model_monthly a LEFT JOIN models m ON m.id = a.model_id;
