-- Curves in force, stock on hand and its expected loss, as views a BI tool can query
-- (SQLite, PostgreSQL, TimescaleDB alike), per store (warehouse) and product: shrinkage is a
-- property of a product in a store. Each mirrors one piece of the Python forecast:
--   shrinkage_active_curves     shrinkage.db.modeling_store.active_coefficients
--   shrinkage_stock_on_hand     Exposure.on_hand (shrinkage/modeling/exposure.py)
--   shrinkage_batch_forecast    shrinkage.modeling.forecast.expected_loss, per batch
--   shrinkage_product_forecast  forecast_loss(...).total, per store and product
-- Any other horizon N:  SELECT sum(shrinkage_batch_loss(c.family, c.a, c.b, c.c,
--   s.quantity, s.age_days, N)) FROM shrinkage_stock_on_hand s
--   JOIN shrinkage_active_curves c USING (warehouse_id, nomenclature_id).
-- shrinkage.db.analytics_views fills the placeholders per database:
--   json_family, json_a, json_b, json_c, json_surplus_rate  values of coefficients.fit_details (alias c)
--   age_days     days from the batch's arrival (or the product's first document when the
--                batch line has no arrival date) to the last document, at least 0
--   horizons     VALUES (7), (14): the forecast horizons of shrinkage.config (fit_run)

-- One row per store and product: the coefficients in force. A coefficient row is eligible
-- when its registry version is the active version of its model or older (a newer one was
-- rolled back); per store and product the newest eligible fit run wins (training date, then
-- registry id), and in it the row of the latest calculation period. Parameters come from
-- fit_details, which also keeps a quadratic's negative b (the coefficient_b column cannot).
-- A coefficient is of the store of its calculation row.
-- A correlated subquery per store and product rather than a window over all coefficients:
-- both databases then join this view by its key (SQLite nests loops over materialised
-- window results, which made the forecast views 20 times slower there).
CREATE VIEW shrinkage_active_curves AS
SELECT p.warehouse_id, w.name AS warehouse_name, n.id AS nomenclature_id, n.name AS product_name,
       n.product_type, c.id AS coefficient_id, c.model_id, c.ml_model_registry_id,
       r.version AS registry_version, r.training_date, ${json_family} AS family, ${json_a} AS a,
       ${json_b} AS b, ${json_c} AS c, ${json_surplus_rate} AS surplus_rate, c.accuracy_r2
FROM (SELECT DISTINCT warehouse_id, nomenclature_id FROM calculation_data) p
JOIN nomenclature n ON n.id = p.nomenclature_id
JOIN warehouses w ON w.id = p.warehouse_id
JOIN coefficients c ON c.id = (
    SELECT eligible.id
    FROM calculation_data cd
    JOIN coefficients eligible ON eligible.calculation_data_id = cd.id
    JOIN ml_model_registry fitted_by ON fitted_by.id = eligible.ml_model_registry_id
    JOIN ml_model_registry active ON active.model_name = fitted_by.model_name AND active.is_active
    WHERE cd.warehouse_id = p.warehouse_id AND cd.nomenclature_id = p.nomenclature_id
      AND (fitted_by.training_date < active.training_date
           OR (fitted_by.training_date = active.training_date AND fitted_by.id <= active.id))
    ORDER BY fitted_by.training_date DESC, eligible.ml_model_registry_id DESC,
             cd.calculation_date DESC, eligible.id DESC
    LIMIT 1)
JOIN ml_model_registry r ON r.id = c.ml_model_registry_id;

-- One row per batch on hand after each store's product's last document: its book balance
-- and age. Only current copies count: a document repeated by an overlapping export is kept
-- in the most recent export's version (batch_movements.superseded marks the others). The
-- last document is the last posted at the latest moment: documents of one second keep the
-- statement's row order (the newest file's, furthest down), never the order of their numbers.
CREATE VIEW shrinkage_stock_on_hand AS
WITH span AS (
    SELECT warehouse_id, nomenclature_id, min(document_datetime) AS first_document,
           max(document_datetime) AS as_of
    FROM batch_movements WHERE NOT superseded
    GROUP BY warehouse_id, nomenclature_id
), last_line AS (
    SELECT s.warehouse_id, s.nomenclature_id, s.first_document, s.as_of,
           (SELECT m.id FROM batch_movements m
            WHERE m.warehouse_id = s.warehouse_id AND m.nomenclature_id = s.nomenclature_id
              AND m.document_datetime = s.as_of AND NOT m.superseded
            ORDER BY m.source_data_id DESC, m.source_row DESC LIMIT 1) AS line_id
    FROM span s
), lines AS (
    SELECT m.warehouse_id, m.nomenclature_id, m.batch_arrival, m.closing, m.document_number,
           m.source_data_id, m.source_row, l.as_of, l.first_document
    FROM last_line l
    JOIN batch_movements d ON d.id = l.line_id AND d.document_datetime = l.as_of
    JOIN batch_movements m ON m.warehouse_id = l.warehouse_id AND m.nomenclature_id = l.nomenclature_id
                          AND m.document_datetime = l.as_of AND m.source_data_id = d.source_data_id
                          AND m.document_type = d.document_type
                          AND coalesce(m.document_number, '') = coalesce(d.document_number, '')
    WHERE NOT m.superseded
)
SELECT warehouse_id, nomenclature_id, batch_arrival, batch_arrival IS NOT NULL AS is_labelled,
       closing AS quantity, as_of, document_number, source_data_id, source_row,
       ${age_days} AS age_days
FROM lines
-- 0.5 g: a batch line below it is empty (shrinkage.modeling.exposure.EMPTY_KG)
WHERE closing > 0.0005;

-- The expected loss of every batch on hand over each configured horizon, under the curve in
-- force of its store and product: B (S(t + N) - S(t)) / (1 - S(t)).
CREATE VIEW shrinkage_batch_forecast AS
WITH horizons (horizon_days) AS (${horizons})
SELECT s.warehouse_id, c.warehouse_name, s.nomenclature_id, c.product_name, c.product_type,
       s.batch_arrival, s.is_labelled, s.quantity, s.as_of, s.age_days, h.horizon_days, c.family,
       c.registry_version, c.coefficient_id,
       shrinkage_curve(c.family, c.a, c.b, c.c, s.age_days) AS shrinkage_to_date,
       shrinkage_batch_loss(c.family, c.a, c.b, c.c, s.quantity, s.age_days, h.horizon_days)
           AS expected_loss_kg
FROM shrinkage_stock_on_hand s
JOIN shrinkage_active_curves c ON c.warehouse_id = s.warehouse_id AND c.nomenclature_id = s.nomenclature_id
CROSS JOIN horizons h;

-- Per store, product and horizon: the sum over its batches (the forecast of the `forecasts`
-- table before it is floored at 0).
CREATE VIEW shrinkage_product_forecast AS
SELECT warehouse_id, warehouse_name, nomenclature_id, product_name, product_type, as_of,
       horizon_days, family, registry_version, count(*) AS batches, sum(quantity) AS quantity_kg,
       sum(expected_loss_kg) AS expected_loss_kg
FROM shrinkage_batch_forecast
GROUP BY warehouse_id, warehouse_name, nomenclature_id, product_name, product_type, as_of,
         horizon_days, family, registry_version;
