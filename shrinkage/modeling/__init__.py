"""Shrinkage modelling: pure numerics over DataFrames (no database, no files).

- ``curves``: the curve families S(t) as small estimators;
- ``exposure``: book stock per batch and age between counts, from the stored movements;
- ``fitting``: S and the surplus rate r per product, robust, AICc family choice, pooling;
- ``baseline``: the naive y = L / B fit, kept only to compare against;
- ``forecast``: loss of stock on hand over N days, preliminary shortage of an open period;
- ``anomalies``: anomalous counts, clusters of alike products, seasonal effects.
- ``observations``: de-duplicated movements, turnover and naive observations for a fit run;
- ``results``: coefficient columns, per-period figures, registry metrics, forecast accuracy;
- ``surplus``: surplus recommendations and pattern validations from the fitted counts.
"""
