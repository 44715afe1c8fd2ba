-- Curves in force, stock on hand and its expected loss, as views a BI tool can query
-- (SQLite, PostgreSQL, TimescaleDB alike). Each mirrors one piece of the Python forecast:
--   shrinkage_active_curves     shrinkage.db.modeling_store.active_coefficients
--   shrinkage_stock_on_hand     Exposure.on_hand (shrinkage/modeling/exposure.py)
--   shrinkage_batch_forecast    shrinkage.modeling.forecast.expected_loss, per batch
--   shrinkage_product_forecast  forecast_loss(...).total, per product
-- Any other horizon N:  SELECT sum(shrinkage_batch_loss(c.family, c.a, c.b, c.c,
--   s.quantity, s.age_days, N)) FROM shrinkage_stock_on_hand s
--   JOIN shrinkage_active_curves c USING (nomenclature_id).
-- shrinkage.db.analytics_views fills the placeholders per database:
--   json_family, json_a, json_b, json_c, json_surplus_rate  values of coefficients.fit_details (alias c)
--   age_days     days from the batch's arrival (or the product's first document when the
--                batch line has no arrival date) to the last document, at least 0
--   text_order   the collation that orders document numbers like Python strings
--   horizons     VALUES (7), (14): the forecast horizons of shrinkage.config (fit_run)

-- One row per product: the coefficients in force. A coefficient row is eligible when its
-- registry version is the active version of its model or older (a newer one was rolled
-- back); per product the newest eligible fit run wins (training date, then registry id),
-- and in it the row of the latest calculation period. Parameters come from fit_details,
-- which also keeps a quadratic's negative b (the coefficient_b column cannot).
-- A correlated subquery per product rather than a window over all coefficients: both
-- databases then join this view by the product's primary key (SQLite nests loops over
-- materialised window results, which made the forecast views 20 times slower there).
CREATE VIEW shrinkage_active_curves AS
SELECT n.id AS nomenclature_id, n.name AS product_name, n.product_type,
       c.id AS coefficient_id, c.model_id, c.ml_model_registry_id, r.version AS registry_version,
       r.training_date, ${json_family} AS family, ${json_a} AS a, ${json_b} AS b, ${json_c} AS c,
       ${json_surplus_rate} AS surplus_rate, c.accuracy_r2
FROM nomenclature n
JOIN coefficients c ON c.id = (
    SELECT eligible.id
    FROM calculation_data cd
    JOIN coefficients eligible ON eligible.calculation_data_id = cd.id
    JOIN ml_model_registry fitted_by ON fitted_by.id = eligible.ml_model_registry_id
    JOIN ml_model_registry active ON active.model_name = fitted_by.model_name AND active.is_active
    WHERE cd.nomenclature_id = n.id
      AND (fitted_by.training_date < active.training_date
           OR (fitted_by.training_date = active.training_date AND fitted_by.id <= active.id))
    ORDER BY fitted_by.training_date DESC, eligible.ml_model_registry_id DESC,
             cd.calculation_date DESC, eligible.id DESC
    LIMIT 1)
JOIN ml_model_registry r ON r.id = c.ml_model_registry_id;

-- One row per batch on hand after each product's last document (by time, then number):
-- its book balance and age. Overlapping files repeat a document: of each batch line
-- (arrival, and order among equal arrivals in its file) the newest file's copy counts,
-- as shrinkage.modeling.observations.dedupe_movements keeps it.
CREATE VIEW shrinkage_stock_on_hand AS
WITH span AS (
    SELECT nomenclature_id, min(document_datetime) AS first_document,
           max(document_datetime) AS as_of
    FROM batch_movements GROUP BY nomenclature_id
), last_document AS (
    SELECT s.nomenclature_id, s.first_document, s.as_of,
           max(coalesce(m.document_number, '') ${text_order}) AS document_number
    FROM span s
    JOIN batch_movements m ON m.nomenclature_id = s.nomenclature_id AND m.document_datetime = s.as_of
    GROUP BY s.nomenclature_id, s.first_document, s.as_of
), lines AS (
    SELECT m.nomenclature_id, m.source_data_id, m.source_row, m.batch_arrival, m.closing,
           l.as_of, l.first_document, l.document_number,
           row_number() OVER (PARTITION BY m.nomenclature_id, m.source_data_id, m.batch_arrival
                              ORDER BY m.source_row) AS line_no
    FROM batch_movements m
    JOIN last_document l ON l.nomenclature_id = m.nomenclature_id AND m.document_datetime = l.as_of
                        AND coalesce(m.document_number, '') ${text_order} = l.document_number
), copies AS (
    SELECT lines.*,
           row_number() OVER (PARTITION BY nomenclature_id, batch_arrival, line_no
                              ORDER BY source_data_id DESC, source_row) AS copy_no
    FROM lines
)
SELECT nomenclature_id, batch_arrival, batch_arrival IS NOT NULL AS is_labelled,
       closing AS quantity, as_of, document_number, source_data_id, source_row,
       ${age_days} AS age_days
FROM copies
-- 0.5 g: a batch line below it is empty (shrinkage.modeling.exposure.EMPTY_KG)
WHERE copy_no = 1 AND closing > 0.0005;

-- The expected loss of every batch on hand over each configured horizon, under the
-- product's curve in force: B (S(t + N) - S(t)) / (1 - S(t)).
CREATE VIEW shrinkage_batch_forecast AS
WITH horizons (horizon_days) AS (${horizons})
SELECT s.nomenclature_id, c.product_name, c.product_type, s.batch_arrival, s.is_labelled,
       s.quantity, s.as_of, s.age_days, h.horizon_days, c.family, c.registry_version,
       c.coefficient_id,
       shrinkage_curve(c.family, c.a, c.b, c.c, s.age_days) AS shrinkage_to_date,
       shrinkage_batch_loss(c.family, c.a, c.b, c.c, s.quantity, s.age_days, h.horizon_days)
           AS expected_loss_kg
FROM shrinkage_stock_on_hand s
JOIN shrinkage_active_curves c ON c.nomenclature_id = s.nomenclature_id
CROSS JOIN horizons h;

-- Per product and horizon: the sum over its batches (the forecast of the `forecasts` table
-- before it is floored at 0).
CREATE VIEW shrinkage_product_forecast AS
SELECT nomenclature_id, product_name, product_type, as_of, horizon_days, family,
       registry_version, count(*) AS batches, sum(quantity) AS quantity_kg,
       sum(expected_loss_kg) AS expected_loss_kg
FROM shrinkage_batch_forecast
GROUP BY nomenclature_id, product_name, product_type, as_of, horizon_days, family,
         registry_version;
