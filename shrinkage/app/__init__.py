"""The use cases: what the CLI, the Dagster assets and the dashboard call.

Each module has one job and owns its transaction(s) (``session_scope``); the persistence
layer (``shrinkage.db``) only reads and writes in the caller's session, the numerics
(``shrinkage.modeling``) never see a database.
"""
