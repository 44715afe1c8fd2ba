"""Settings from the environment, and the numbers that matter, in one place.

Database: ``SHRINKAGE_DATABASE_URL`` (any SQLAlchemy URL), else the customer's plan's ``DB_HOST`` /
``DB_PORT`` / ``DB_NAME`` / ``DB_USER`` / ``DB_PASSWORD`` build a PostgreSQL URL, else the
embedded SQLite default. Secret values are held as ``SecretStr`` and every URL that leaves
this module for a log or a message goes through :func:`mask_url`.

Where files live: every default folder (``data/``, ``inbox/``, ``reports/``, ``backups/``,
``.dagster_home/``, the keyword file) sits under one project home, never the current
directory: ``SHRINKAGE_HOME`` when set; else the source checkout the package runs from (the
folder holding this project's ``pyproject.toml``, as with ``make install``'s editable
install and the Docker image); else, for a package installed from a wheel,
``$XDG_DATA_HOME/shrinkage`` (``~/.local/share/shrinkage``). Paths given explicitly
(``SHRINKAGE_INBOX=...``, ``--out``) are taken as given.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

HOME_ENV = "SHRINKAGE_HOME"
# The embedded database, relative to the project home.
DEFAULT_SQLITE_FILE = Path("data") / "shrinkage.db"


def project_home() -> Path:
    """The folder every default path resolves from (see the module doc)."""
    explicit = os.environ.get(HOME_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    checkout = Path(__file__).resolve().parent.parent
    pyproject = checkout / "pyproject.toml"
    if pyproject.is_file() and 'name = "shrinkage"' in pyproject.read_text(encoding="utf-8"):
        return checkout
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "shrinkage"


class Settings(BaseSettings):
    """Runtime settings; env names follow the customer's plan (docs/database-plan.md 4.2) where it names them."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, secrets_dir=None,
    )

    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SHRINKAGE_DATABASE_URL")
    )
    db_host: str | None = Field(default=None, validation_alias=AliasChoices("DB_HOST"))
    db_port: int = Field(default=5432, validation_alias=AliasChoices("DB_PORT"))
    db_name: str = Field(default="shrinkage_db", validation_alias=AliasChoices("DB_NAME"))
    db_user: str = Field(default="shrinkage_user", validation_alias=AliasChoices("DB_USER"))
    db_password: SecretStr | None = Field(default=None, validation_alias=AliasChoices("DB_PASSWORD"))
    # A file holding the password (docker secrets); wins over DB_PASSWORD when set.
    db_password_file: Path | None = Field(default=None, validation_alias=AliasChoices("DB_PASSWORD_FILE"))

    pool_size: int = Field(default=5, ge=1, validation_alias=AliasChoices("POOL_SIZE"))
    max_overflow: int = Field(default=10, ge=0, validation_alias=AliasChoices("MAX_OVERFLOW"))
    pool_recycle: int = Field(default=3600, validation_alias=AliasChoices("POOL_RECYCLE"))
    pool_pre_ping: bool = Field(default=True, validation_alias=AliasChoices("POOL_PRE_PING"))
    connect_timeout: int = Field(default=5, ge=1, validation_alias=AliasChoices("SHRINKAGE_CONNECT_TIMEOUT"))

    inbox: Path | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_INBOX"))
    reports: Path | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_REPORTS"))
    timezone: str = Field(default="Europe/Moscow", validation_alias=AliasChoices("SHRINKAGE_TIMEZONE"))
    # The store a file is loaded under when it names none (a turnover statement without the
    # «Склад» filter): loading then records a warning that says so.
    default_warehouse: str = Field(default="Основной склад",
                                   validation_alias=AliasChoices("SHRINKAGE_DEFAULT_WAREHOUSE"))

    @property
    def home(self) -> Path:
        return project_home()

    @property
    def inbox_dir(self) -> Path:
        return self.inbox if self.inbox is not None else self.home / "inbox"

    @property
    def reports_dir(self) -> Path:
        return self.reports if self.reports is not None else self.home / "reports"

    @property
    def backup_dir(self) -> Path:
        return self.home / CONFIG.operations.backup_dir

    @property
    def keywords_file(self) -> Path:
        return self.home / CONFIG.reports.keywords_file

    @property
    def dagster_home(self) -> Path:
        """Dagster's own instance folder when DAGSTER_HOME is not set."""
        return self.home / ".dagster_home"

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{self.home / DEFAULT_SQLITE_FILE}"

    def url(self) -> URL:
        """The database URL this configuration selects (secret included: never log it raw)."""
        if self.database_url is not None:
            return make_url(self.database_url.get_secret_value())
        if self.db_host:
            password = self._password()
            return URL.create(
                "postgresql+psycopg2", username=self.db_user, password=password,
                host=self.db_host, port=self.db_port, database=self.db_name,
            )
        return make_url(self.sqlite_url)

    def _password(self) -> str | None:
        if self.db_password_file is not None:
            return self.db_password_file.read_text(encoding="utf-8").strip()
        return self.db_password.get_secret_value() if self.db_password else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


SMTP_SECURITY = ("starttls", "ssl", "none")


class AlertSettings(BaseSettings):
    """Where failure alerts go (``shrinkage.notify``). Off unless configured: e-mail needs
    ``SHRINKAGE_SMTP_HOST`` and ``SHRINKAGE_ALERT_TO``, the webhook ``SHRINKAGE_ALERT_WEBHOOK_URL``.
    The SMTP password and the webhook URL (its path usually is the token) are secrets."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, secrets_dir=None, populate_by_name=True,
    )

    smtp_host: str | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_SMTP_HOST"))
    smtp_port: int | None = Field(default=None, ge=1, le=65535,
                                  validation_alias=AliasChoices("SHRINKAGE_SMTP_PORT"))
    smtp_user: str | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_SMTP_USER"))
    smtp_password: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_SMTP_PASSWORD"))
    # A file holding the password (docker secrets); wins over SHRINKAGE_SMTP_PASSWORD when set.
    smtp_password_file: Path | None = Field(default=None,
                                            validation_alias=AliasChoices("SHRINKAGE_SMTP_PASSWORD_FILE"))
    # starttls (port 587 by default), ssl (implicit TLS, 465) or none (a local relay, 25).
    smtp_security: str = Field(default="starttls", validation_alias=AliasChoices("SHRINKAGE_SMTP_SECURITY"))
    mail_from: str | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_ALERT_FROM"))
    # Comma- or semicolon-separated addresses.
    mail_to: str | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_ALERT_TO"))
    webhook_url: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_ALERT_WEBHOOK_URL"))
    # Seconds per connection attempt and per request (SMTP and webhook each).
    timeout_seconds: float = Field(default=10.0, gt=0, validation_alias=AliasChoices("SHRINKAGE_ALERT_TIMEOUT"))
    # Extra CA certificates to trust (a corporate CA) for SMTP TLS and an https webhook.
    ca_file: Path | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_ALERT_CA_FILE"))
    # Base URL of the Dagster UI, for links to runs (e.g. http://dagster.local:3000).
    ui_url: str | None = Field(default=None, validation_alias=AliasChoices("SHRINKAGE_UI_URL"))
    # A reason longer than this (a traceback) is cut: chat receivers limit message sizes.
    max_reason_chars: int = Field(default=4000, ge=100,
                                  validation_alias=AliasChoices("SHRINKAGE_ALERT_MAX_REASON_CHARS"))

    @field_validator("smtp_security")
    @classmethod
    def _known_security(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SMTP_SECURITY:
            raise ValueError(f"SHRINKAGE_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, got {value!r}")
        return value

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in re.split(r"[,;]", self.mail_to or "") if a.strip()]

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.recipients)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url and self.webhook_url.get_secret_value().strip())

    @property
    def port(self) -> int:
        """The SMTP port: as set, else the usual one for the security mode."""
        return self.smtp_port or {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    def password(self) -> str | None:
        if self.smtp_password_file is not None:
            return self.smtp_password_file.read_text(encoding="utf-8").strip()
        return self.smtp_password.get_secret_value() if self.smtp_password else None

    def secrets(self) -> list[str]:
        """Values a log line must never show (for the log scrubber)."""
        found = [self.webhook_url.get_secret_value() if self.webhook_url else None]
        if self.smtp_password is not None:
            found.append(self.smtp_password.get_secret_value())
        try:
            found.append(self.password())
        except OSError:  # an unreadable password file holds no secret we could know
            pass
        return [s for s in found if s]


@lru_cache(maxsize=1)
def get_alert_settings() -> AlertSettings:
    return AlertSettings()


_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")


def mask_url(url: URL | str) -> str:
    """The URL as text with its password replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except Exception:  # not a URL: mask anything that looks like user:password@
            return _PASSWORD_IN_TEXT.sub(r"\1***\3", url)
    return url.render_as_string(hide_password=True)


def scrub_secrets(text: str, *secrets: str | None) -> str:
    """Remove known secret values and URL passwords from a message before it is shown."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _PASSWORD_IN_TEXT.sub(r"\1***\3", text)


# --------------------------------------------------------------------------------------
# Numbers that matter. Tolerances and thresholds used across the core live here so that
# a reader finds every knob in one file.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerances:
    # kg: balance identities (opening + in - out = closing, sums of children) hold within this.
    balance_kg: float = 0.0015
    # Relative tolerance for large totals (kg per kg of the compared value).
    balance_rel: float = 1e-6


@dataclass(frozen=True)
class QualityThresholds:
    # A count shortage above this share of the book balance is implausible as shrinkage.
    max_plausible_count_share: float = 0.25
    # human_error_probability at or above this sets manual_review_required.
    review_probability: float = 0.8
    # Severities that set manual_review_required on the affected row.
    review_severities: tuple[str, ...] = ("high", "critical")
    # Severities that block loading of a file (blocking asset checks).
    blocking_severities: tuple[str, ...] = ("critical",)


@dataclass(frozen=True)
class ValidationLimits:
    """Knobs of the validation rules in ``shrinkage.quality`` (severities live with the rules)."""

    # Итого vs the warehouse row (or either vs the sum of product rows) off by more than
    # max(kg, share of the total) means rows were lost or misread: the file is blocked.
    gross_total_mismatch_kg: float = 1.0
    gross_total_mismatch_share: float = 0.01
    # A product name longer than this is a misread cell, not a nomenclature name.
    max_product_name_length: int = 200
    # kg on one product, document or batch row; beyond it the cell is misread or mistyped
    # (a store holds tonnes, not hundreds of tonnes, of one product): loading is blocked.
    # Raise it for a wholesale warehouse. Infinite and NaN quantities are blocked always.
    max_plausible_quantity_kg: float = 100_000.0
    # Failing rows shown per check (the asset check metadata); all of them become issues.
    check_sample_size: int = 10
    # How much a row's worst severity costs the file's quality_score (mean over rows).
    severity_penalty: tuple[tuple[str, float], ...] = (
        ("low", 0.1), ("medium", 0.3), ("high", 0.7), ("critical", 1.0),
    )
    # human_error_probability a reader ParseIssue adds to its product, by severity.
    reader_issue_probability: tuple[tuple[str, float], ...] = (
        ("low", 0.05), ("medium", 0.2), ("high", 0.5), ("critical", 0.9),
    )


@dataclass(frozen=True)
class TextLimits:
    """The widest text each database column takes (the String lengths of shrinkage/db/models.py).

    The reader cuts a longer value and records a blocking issue, so a file with a pasted
    essay in a name is refused with its row named instead of failing inside the load.
    """

    product_name: int = 512      # nomenclature.name / normalized_name
    document_type: int = 256     # batch_movements.document_type
    document_number: int = 64    # batch_movements.document_number
    warehouse: int = 512         # source_data.warehouse


@dataclass(frozen=True)
class ModelingSettings:
    """Knobs of shrinkage modelling (shrinkage/modeling): fitting, pooling, anomalies."""

    # Curve families compared per product by AICc (names from shrinkage.modeling.curves).
    families: tuple[str, ...] = ("exp_linear", "linear", "power", "logarithmic", "quadratic")
    # Ages (days) over which the quadratic family must be non-decreasing.
    quadratic_horizon_days: float = 400.0
    # Robust loss of scipy.optimize.least_squares ("soft_l1", "huber", "cauchy").
    robust_loss: str = "soft_l1"
    # Starting points tried per family; the best few by initial cost are optimised.
    optimised_starts: int = 1
    # Surplus rate on receipt, fraction of incoming (glaze up to ~10 %).
    surplus_rate_bounds: tuple[float, float] = (0.0, 0.15)
    # Usable counts needed for a product's own fit; below it borrow from the product type.
    min_counts_individual: int = 6
    # Usable counts needed for a fit shrunk toward the type curve; below it use the type curve.
    min_counts_shrunk: int = 2
    # Ages (days) at which a shrunk fit is pulled toward the type curve, and clustering features.
    reference_ages_days: tuple[float, ...] = (7.0, 14.0, 30.0)
    # Prior spread of S at the reference ages: relative part and absolute floor (fraction).
    shrink_prior_rel: float = 0.25
    shrink_prior_abs: float = 0.001
    # At most this many products enter a product type's pooled fit (most counts first).
    max_pooled_products: int = 200
    # Counts whose residual exceeds this many noise scales are left out of the final fit.
    reject_z: float = 5.0
    # Floor of the robust noise scale of count shortages, kg (1C keeps grams).
    noise_floor_kg: float = 0.001
    # First count of a product whose stock predates the data: "drop" or "from_data_start".
    first_count_policy: str = "drop"
    # Observation weight = 1 + step * priority_level inside a priority period, 1 outside.
    priority_weight_step: float = 1.0
    # Anomalies: prior share of mis-keyed counts and their spread in noise units.
    error_prior: float = 0.02
    error_scale_sigmas: float = 10.0
    # A count is anomalous when its human_error_probability reaches this.
    anomaly_probability: float = 0.5
    # Seasonal effect: a month needs this many counts and this p-value (Bonferroni-corrected).
    seasonal_min_counts: int = 8
    seasonal_alpha: float = 0.01
    # A keying error is reversed by the next count: the two residuals cancel within this share.
    reversal_tolerance: float = 0.5
    # Clusters of similar curves are reported only above this mean silhouette.
    min_silhouette: float = 0.25
    # kg of receipts in a product's counts below which r cannot be estimated (treated as none).
    min_received_kg: float = 1e-3
    # Relative noise of a count shortage assumed when no fitted product of the type tells better.
    default_relative_noise: float = 0.1
    # Scale of the first, near-L1 robust fit, relative to the typical count shortage.
    initial_relative_scale: float = 0.02
    # Rounds of (fit, re-estimate the noise scale) before the families are compared.
    noise_rounds: int = 4
    # Relative tolerances of least_squares for a fit that is kept (the loosest that leaves the
    # demo benchmark's family choices and S errors as they are).
    fit_tolerance: float = 1e-6
    # Looser tolerance for the noise-scale rounds, whose fits only steer (the scale changes again
    # after each): the kept fit of the main family restarts from where they ended. Alternative
    # families are not screened with it: on clean data a loose stop can leave a cost far above
    # its optimum (slow convergence, tiny noise) and the wrong family would win.
    round_tolerance: float = 1e-3
    # Start of an estimated surplus rate (fraction).
    surplus_rate_start: float = 0.02
    # Counts whose shortage is this many robust spreads from the product's median start out of
    # the first fitting round.
    prescreen_spreads: float = 15.0
    # Prior spread of r (fraction) for a shrunk fit's pull toward the type's surplus rate.
    shrink_prior_r: float = 0.02
    # A batch balance below this (kg) is empty stock (book rounding).
    empty_kg: float = 5e-4


@dataclass(frozen=True)
class FitRunSettings:
    """Knobs of a fit run from the database (shrinkage.app.fit, forecasts, surplus): forecasts,
    surplus, registry."""

    # Version of the curve-family code; a new `models` row per family when it changes.
    model_version: str = "1"
    # Forecast horizons (days) written to `forecasts` for every product at each run.
    forecast_horizons_days: tuple[int, ...] = (7, 14)
    # A forecast's actual is the count shortage booked within its horizon plus this slack (days).
    forecast_window_slack_days: float = 1.0
    # Absolute percentage errors divide by max(|actual|, this) kg: near-zero actuals do not explode.
    accuracy_floor_kg: float = 0.01
    # Surplus recommendation: fitted r at least this (fraction) and this many standard errors.
    surplus_min_rate: float = 0.005
    surplus_min_z: float = 3.0
    # Counts with receipts below this (kg) in their interval cannot validate a surplus pattern.
    surplus_min_received_kg: float = 0.5
    # A surplus recommendation is fully confident once this many counts had receipts.
    surplus_full_confidence_counts: int = 6
    # Default feedback preference created when none is active.
    default_feedback_frequency: str = "weekly"
    # |actual - predicted| surplus (fraction of the received weight) under which a pattern
    # validation is confirmed without asking the user (0.005 = 0.5 percentage points).
    default_auto_confirm_threshold: float = 0.005
    # Preliminary forecast confidence: chance that the count lands within this share of it.
    preliminary_tolerance_share: float = 0.25


@dataclass(frozen=True)
class IntakeSettings:
    """Knobs of picking up files from the inbox folder (the orchestration's file sensor)."""

    # A file counts as complete when its size and mtime did not change between two polls,
    # or when it was last modified at least this long ago (seconds).
    min_age_seconds: float = 120.0
    # Seconds between two polls of the inbox.
    poll_interval_seconds: int = 30
    # Files hashed and identified per poll at most (a poll must finish well within a minute).
    max_files_per_poll: int = 20


@dataclass(frozen=True)
class TimeSeriesPolicies:
    """TimescaleDB chunking and policies (shrinkage.db.timeseries); ignored without the extension.

    Ages are whole days so one number means the same in SQL intervals and in reports.
    Retention is off by default: dropping chunks deletes measurements for good, so it is
    something an operator turns on knowingly (``shrinkage db policies --retention-days N``).
    """

    use_timescaledb: bool = True
    chunk_days: int = 7
    # Chunks whose data is older than this are compressed by the compression policy.
    compress_after_days: int = 30
    # None: keep everything. Otherwise chunks older than this are dropped by the retention job.
    retention_days: int | None = None
    # Continuous aggregates: refresh this window back from now, every refresh_every_hours.
    refresh_window_days: int = 400
    refresh_every_hours: int = 1


@dataclass(frozen=True)
class OperationsSettings:
    """Knobs of `shrinkage db backup / archive / cleanup / copy / stats`."""

    # Relative to the project home (shrinkage.config.project_home).
    backup_dir: Path = Path("backups")
    # Rows per chunk when `db copy` streams a table from one database to another.
    copy_chunk_rows: int = 20_000
    # `db cleanup`: resolved validation errors and orphan products older than this go.
    cleanup_after_days: int = 90
    # `db stats`: how many slow queries / least used indexes to list.
    stats_top: int = 10


@dataclass(frozen=True)
class ReportSettings:
    """Knobs of reports, review listings, exports and reference-data imports (shrinkage.reports)."""

    # Seconds that cached reference data (product names/types, active registry versions,
    # the product-type keyword table) is trusted before it is read again.
    reference_cache_ttl_seconds: float = 60.0
    # CSV defaults: what Russian-locale Excel opens without an import wizard.
    csv_separator: str = ";"
    csv_decimal: str = ","
    # Fitted curves are drawn from age 0 to this many days (charts and PDF).
    curve_max_age_days: float = 60.0
    curve_points: int = 61
    # Products drawn per product type at most (most observations first), to keep charts legible.
    max_curves_per_type: int = 6
    # Rows per page when `export TABLE` streams a table.
    export_chunk_rows: int = 5000
    # Review listings: rows per page.
    review_page_size: int = 20
    # Imported surplus percentages above this are refused as implausible (percent points).
    max_surplus_percentage: float = 30.0
    # Where an imported product-type keyword table is kept (no table in the schema holds it),
    # relative to the project home.
    keywords_file: Path = Path("data/product_type_keywords.json")


# Product-type classifier (shrinkage.products): rows of (product_type, product_type_code,
# keywords). Keyword syntax, matched case-insensitively (Ё = Е, a backslash = "/", Latin
# look-alike letters read as Cyrillic):
#   ВЯЛ    the start of a word (ВЯЛЕНАЯ, ВЯЛЕНЫЙ);
#   !СЫР   exactly this word (СЫР, not СЫРОКОПЧЕНЫЙ); keywords of one or two letters and
#          those with a slash are always whole words ("ХК" inside ТРЕХКИЛОГРАММОВЫЙ is not);
#   ХОЛ КОП  words in a row, with spaces or dots between (ХОЛ.КОПЧ.);
#   ~ФИЛЕ  weak: counts only when neither the name's other words nor the product's group
#          (the statement's group rows) say anything.
# Evidence in this order, first match wins within each step, rows in table order: the name,
# the product's groups from the innermost out, the name's weak keywords. Nothing: other.
# Words in quotes never count: they are brands and flavours ('ГРЕНКИ "КРАСНАЯ ИКРА"').
# Row order matters: non-fish goods first (a flavour never makes a snack fish), then caviar and
# preserves, then processing (salted, smoked, dried: it beats the species, so dried squid is
# dried), then seafood (beats frozen: "КРЕВЕТКИ С/М" is seafood), frozen, chilled.
DEFAULT_PRODUCT_TYPE_KEYWORDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (product_type, product_type_code, keywords)
    ("other", "OTH", (
        # nuts, seeds, croutons, chips, crackers, bread rings
        "АРАХИС", "ФИСТАШ", "ОРЕХ", "ОРЕШ", "МИНДАЛ", "КЕШЬЮ", "ФУНДУК", "ГРЕЦК", "ПЕКАН", "МАКАДАМ",
        "СЕМЕЧК", "СЕМЕНА", "ГРЕНК", "СУХАРИ", "ЧИПС", "КРЕКЕР", "ХЛЕБЦ", "!СУШКИ", "БАРАНК", "БУБЛИК",
        "ПРЯНИК", "ПОПКОРН", "КУКУРУЗ", "ГОРОХ", "!НУТ", "!БОБЫ",
        # olives, vegetables, mushrooms, sauces, salads, seaweed
        "!ОЛИВКИ", "!МАСЛИНЫ", "!ТОМАТЫ", "!ПОМИДОРЫ", "ОГУРЦ", "КАПУСТ", "!ЛУК", "!ЧЕСНОК", "ГРИБ",
        "КАБАЧК", "БАКЛАЖАН", "ОВОЩ", "МОРКОВ", "КАРТОФ", "!СОУС", "!СОУСЫ", "!САЛАТ", "!САЛАТЫ",
        "ЧУКА", "ВОДОРОСЛ",
        # dried fruit
        "СУХОФРУКТ", "ФРУКТ", "КУРАГ", "ИЗЮМ", "ЧЕРНОСЛИВ", "ФИНИК", "ИНЖИР", "ХУРМ", "!ДЫНЯ", "БАНАН",
        "МАНГО", "АНАНАС", "ЯБЛОК", "ЦУКАТ", "КЛЮКВ",
        # cheese and meat snacks
        "!СЫР", "СЫРН", "ЧЕЧИЛ", "СУЛУГУН", "МЯСН", "ГОВЯД", "ГОВЯЖ", "СВИН", "КУРИН", "КУРИЦ", "КОНИН",
        "ДЖЕРКИ", "БАСТУРМ", "КОЛБАС", "БЕКОН",
        # semi-finished fish products: batter, breadcrumbs, cutlets, sticks, dumplings, mince
        "КЛЯР", "ПАНИР", "КОТЛЕТ", "НАГГЕТС", "ПЕЛЬМЕН", "ФАРШ", "ПАЛОЧК",
    )),
    ("caviar", "CAV", ("ИКРА", "ЗЕРНИСТ", "ЯСТЫК", "ЯСТЫЧН", "ТОБИКО", "МАССАГО")),
    ("preserves", "PRS", ("ПРЕСЕРВ",)),
    ("salted", "SLT", ("С/С", "СЛАБОСОЛ", "СОЛЕН", "МАЛОСОЛ", "СВЕЖЕСОЛЕН", "П/П", "ПРЯН", "ПОСОЛ")),
    ("hot_smoked", "HSM", ("Г/К", "ГК", "ГОРЯЧ", "ГОР КОП")),
    ("cold_smoked", "CSM", ("Х/К", "ХК", "ХОЛОДН", "ХОЛ КОП", "СЫРОКОПЧ")),
    ("smoked", "SMK", ("КОПЧ",)),
    ("dried", "DRY", ("ВЯЛ", "СУШ", "СТРУЖК", "ЯНТАРН", "~ВОБЛ", "~ТАРАН")),
    ("seafood", "SEA", ("КРЕВЕТ", "КРАБ", "КАЛЬМАР", "МИДИ", "ОСЬМИНОГ", "ГРЕБЕШ", "ЛАНГУСТ", "КАРАКАТИЦ",
                        "ОМАР", "ЛОБСТЕР", "!РАКИ", "УСТРИЦ", "ТРЕПАНГ", "РАПАН", "МОРСКОЙ КОКТЕЙЛ",
                        "МОРЕПРОДУКТ", "В/М")),
    ("frozen", "FRZ", ("С/М", "МОРОЖ", "ЗАМОР", "СВЕЖЕМОРОЖ", "С/З", "!ЗАМ",
                       "~ФИЛЕ", "~СТЕЙК", "~КУБИК", "~ТУШК", "~Б/Г", "~С/Г", "~ПБГ")),
    ("chilled", "CHL", ("ОХЛ", "СВЕЖ")),
)
OTHER_PRODUCT_TYPE = ("other", "OTH")


@dataclass(frozen=True)
class Config:
    tolerances: Tolerances = field(default_factory=Tolerances)
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    modeling: ModelingSettings = field(default_factory=ModelingSettings)
    fit_run: FitRunSettings = field(default_factory=FitRunSettings)
    validation: ValidationLimits = field(default_factory=ValidationLimits)
    text_limits: TextLimits = field(default_factory=TextLimits)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    timeseries: TimeSeriesPolicies = field(default_factory=TimeSeriesPolicies)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)


CONFIG = Config()
