# One image for the whole docker-compose stack: the migration job, the Dagster user-code gRPC
# server, the webserver and the daemon (they differ only by command).
# The project is installed exactly as CI installs it (.ci/run -> `make install`: a venv in
# .venv, pip upgraded, `pip install -e ".[dev]"`), so the image runs the code CI tested.
FROM python:3.11-slim-bookworm

ARG APP_UID=10001
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home \
    PATH=/opt/shrinkage/.venv/bin:$PATH

# make runs the install recipe; nothing else is needed (psycopg2-binary bundles libpq).
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/shrinkage
# Only what the distribution needs (never the host's .venv): pyproject's packages, README.md
# (its readme), the Makefile, and sql/ (read at run time by shrinkage.db.sqlfiles).
COPY pyproject.toml README.md Makefile workspace.yaml ./
COPY shrinkage/ shrinkage/
COPY assets/ assets/
COPY resources/ resources/
COPY pipelines/ pipelines/
COPY sql/ sql/
RUN make install

COPY docker/dagster.yaml /opt/dagster/home/dagster.yaml
COPY docker/workspace.yaml /opt/dagster/workspace.yaml
COPY docker/entrypoint.sh /usr/local/bin/shrinkage-entrypoint

# An unprivileged user; the folders below become the (named) volumes' initial owners.
RUN chmod 0755 /usr/local/bin/shrinkage-entrypoint \
    && useradd --uid "$APP_UID" --user-group --no-create-home --home-dir /opt/shrinkage shrinkage \
    && mkdir -p /data/inbox /data/reports /opt/dagster/home/storage /opt/dagster/compute_logs \
    && chown -R shrinkage:shrinkage /data /opt/dagster
USER shrinkage
# The project home: default folders (backups/, the keyword file) on the writable data volume.
ENV SHRINKAGE_HOME=/data

ENTRYPOINT ["shrinkage-entrypoint"]
CMD ["dagster", "api", "grpc", "-m", "pipelines.definitions", "-h", "0.0.0.0", "-p", "4000", "-d", "/opt/shrinkage"]
