"""Fit S (and the surplus rate r) per product so that expected and observed count shortages agree.

Why this shape:
- the unit of observation is a product's count (its total shortage), the robust one; single
  batch lines are noisy because losses of sold-out batches land on whatever is left;
- a few counts carry keying errors, so the loss is robust (soft-L1 by default) with its scale
  taken from a robust (MAD) estimate of the residual noise;
- families are compared by AICc on the robust cost, which on clean data reduces to the usual
  residual sum of squares;
- few products have many counts: below ``min_counts_individual`` a product borrows strength
  from its product type (a fit shrunk toward the type curve, or the type curve itself), and
  the result says which.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.optimize import least_squares

from shrinkage.config import CONFIG, ModelingSettings
from shrinkage.modeling.curves import CurveFamily, make_family
from shrinkage.modeling.exposure import Exposure, ProductExposure

log = logging.getLogger(__name__)

INDIVIDUAL, SHRUNK, POOLED = "individual", "shrunk", "pooled"
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class CurveFit:
    """One product's (or one product type's) fitted shrinkage model and its figures.

    ``residuals`` are observed - expected count shortages (kg), aligned with ``count_rows``
    (rows of :attr:`Exposure.counts`); ``noise_scale`` is the robust noise of a count (kg).
    ``surplus_source`` is "estimated", "specified", "type" (borrowed), "members" (a type fit's
    median of its members' rates) or "none" (no receipts).
    """

    product: object
    family: str
    params: dict[str, float]
    surplus_rate: float
    surplus_source: str
    r2: float
    rmse: float
    mae: float
    aicc: float
    n_observations: int
    method: str
    noise_scale: float
    product_type: str | None = None
    count_rows: tuple[int, ...] = ()
    residuals: tuple[float, ...] = ()
    expected: tuple[float, ...] = ()
    candidates: tuple[tuple[str, float], ...] = ()
    quadratic_horizon_days: float = 400.0

    def curve(self) -> CurveFamily:
        """The fitted S as an estimator with ``predict(t)``."""
        return make_family(self.family, self.params, self.quadratic_horizon_days)

    def predict(self, t) -> np.ndarray:
        return self.curve().predict(t)

    def to_dict(self) -> dict:
        """JSON-able figures (residual arrays left out)."""
        out = asdict(self)
        for key in ("count_rows", "residuals", "expected"):
            out.pop(key)
        out["product"] = _jsonable(self.product)
        out["candidates"] = {name: _finite_or_none(v) for name, v in self.candidates}
        for key in ("r2", "rmse", "mae", "aicc"):
            out[key] = _finite_or_none(out[key])
        return out


def _jsonable(value):
    return value.item() if isinstance(value, np.generic) else value


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class _Problem:
    """What one least-squares fit needs: data, per-count scale and weight, surplus handling."""

    exposure: ProductExposure
    sigma: np.ndarray  # per count, kg
    weight: np.ndarray  # per count
    surplus_offset: np.ndarray  # r Q already known (fixed r), per count
    free_received: np.ndarray | None  # Q of the counts whose r is estimated (None: no free r)
    r_bounds: tuple[float, float]
    penalty: _Penalty | None = None

    @property
    def n_counts(self) -> int:
        return self.exposure.n_counts


@dataclass(frozen=True)
class _Penalty:
    """Pull toward a type curve: (S(t_m) - S_type(t_m)) / tau_m at reference ages (and r)."""

    ages: np.ndarray
    target: np.ndarray
    tau: np.ndarray
    r_target: float | None = None
    r_tau: float = 0.02  # prior spread of r (fraction)


@dataclass(frozen=True)
class _FamilyResult:
    family: CurveFamily
    theta: np.ndarray
    r: float | None
    cost: float
    expected: np.ndarray
    aicc: float

    @property
    def x(self) -> np.ndarray:
        """theta with r appended when r was estimated (a start for a refit)."""
        return self.theta if self.r is None else np.append(self.theta, self.r)


def _residuals(problem: _Problem, family: CurveFamily, x: np.ndarray) -> np.ndarray:
    theta, r = _split(family, x)
    pe = problem.exposure
    expected = pe.exposure_loss(family, theta) - problem.surplus_offset
    if r is not None:
        expected = expected - r * problem.free_received
    res = np.sqrt(problem.weight) * (expected - pe.observed) / problem.sigma
    pen = problem.penalty
    if pen is None:
        return res
    extra = [(family.curve(pen.ages, theta) - pen.target) / pen.tau]
    if pen.r_target is not None and r is not None:
        extra.append(np.array([(r - pen.r_target) / pen.r_tau]))
    return np.concatenate([res, *extra])


def _jacobian(problem: _Problem, family: CurveFamily, x: np.ndarray) -> np.ndarray:
    theta, r = _split(family, x)
    pe = problem.exposure
    scale = (np.sqrt(problem.weight) / problem.sigma)[:, None]
    blocks = [pe.exposure_jacobian(family, theta)]
    if r is not None:
        blocks.append(-problem.free_received[:, None])
    jac = scale * np.hstack(blocks)
    pen = problem.penalty
    if pen is None:
        return jac
    pen_rows = family.gradient(pen.ages, theta) / pen.tau[:, None]
    if r is not None:
        pen_rows = np.hstack([pen_rows, np.zeros((len(pen.ages), 1))])
    rows = [jac, pen_rows]
    if pen.r_target is not None and r is not None:
        r_row = np.zeros((1, jac.shape[1]))
        r_row[0, -1] = 1.0 / pen.r_tau
        rows.append(r_row)
    return np.vstack(rows)


def _split(family: CurveFamily, x: np.ndarray) -> tuple[np.ndarray, float | None]:
    p = family.n_params
    return x[:p], (float(x[p]) if len(x) > p else None)


def aicc(rss: float, n: int, k: int) -> float:
    """Corrected Akaike criterion; infinite when n is too small for k parameters."""
    if n - k - 1 <= 0 or rss <= 0:
        return float("inf") if n - k - 1 <= 0 else float("-inf")
    return n * np.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _fit_family(problem: _Problem, family: CurveFamily, settings: ModelingSettings,
                starts: list[np.ndarray] | None = None,
                tolerance: float | None = None) -> _FamilyResult:
    """Best least-squares fit of one family over several starts (screened by initial cost).

    ``tolerance`` is least_squares' ftol/xtol/gtol: ``settings.fit_tolerance`` for a fit that
    is kept (the default), ``settings.round_tolerance`` for a noise round's.
    """
    tolerance = tolerance or settings.fit_tolerance
    free_r = problem.free_received is not None
    lo, hi = family.lower, family.upper
    if free_r:
        lo = np.append(lo, problem.r_bounds[0])
        hi = np.append(hi, problem.r_bounds[1])
    if starts is None:
        hint = problem.exposure.rate_hint()
        starts = family.starts(hint)
    candidates = []
    for start in starts:
        start = np.asarray(start, dtype=float)
        x0 = family.clip_theta(start[: family.n_params])
        if free_r:
            r0 = start[family.n_params] if len(start) > family.n_params else settings.surplus_rate_start
            x0 = np.append(x0, r0)
        x0 = np.clip(x0, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
        res0 = _residuals(problem, family, x0)
        candidates.append((float(np.sum(res0 ** 2)), x0))
    candidates.sort(key=lambda c: c[0])
    best = None
    for _, x0 in candidates[: max(settings.optimised_starts, 1)]:
        result = least_squares(
            lambda x: _residuals(problem, family, x), x0,
            jac=lambda x: _jacobian(problem, family, x),
            bounds=(lo, hi), loss=settings.robust_loss, f_scale=1.0, method="trf",
            x_scale="jac", max_nfev=200, ftol=tolerance, xtol=tolerance, gtol=tolerance,
        )
        if best is None or result.cost < best.cost:
            best = result
    return _evaluate(problem, family, best.x, float(best.cost), settings.robust_loss)


def _select_family(problem: _Problem, main: _FamilyResult, alternatives: list[CurveFamily],
                   settings: ModelingSettings, rate_hint: float
                   ) -> tuple[_FamilyResult, list[_FamilyResult]]:
    """The family with the lowest AICc, and every candidate's result (main family first).

    The main family wins when no AICc is finite (too few counts for the criterion).
    """
    results = [main]
    for family in alternatives:
        # the surplus rate hardly depends on the curve's shape: start it at the main fit's
        # (the curve-versus-r trade-off is the slow direction of these fits)
        starts = [start if main.r is None else np.append(start, main.r)
                  for start in family.starts(rate_hint)]
        results.append(_fit_family(problem, family, settings, starts))
    best = min(results, key=lambda r: r.aicc)
    if not np.isfinite(best.aicc):
        best = main
    return best, results


def _evaluate(problem: _Problem, family: CurveFamily, x: np.ndarray, cost: float,
              loss: str) -> _FamilyResult:
    """Expected shortages and AICc of one family at parameters x."""
    theta, r = _split(family, x)
    expected = problem.exposure.exposure_loss(family, theta) - problem.surplus_offset
    if r is not None:
        expected = expected - r * problem.free_received
    n_rows = problem.n_counts
    n = int(np.count_nonzero(problem.weight > 0))
    k = family.n_params + (1 if r is not None else 0)
    # cost counts penalty rows too; AICc compares the data fit only
    data_res = _residuals(problem, family, x)[:n_rows]
    rss = float(np.sum(_robust_rho(data_res ** 2, loss)))
    return _FamilyResult(family, theta, r, cost, expected, aicc(rss, n, k))


def _robust_rho(z2: np.ndarray, loss: str) -> np.ndarray:
    """scipy's robust rho(z^2) (f_scale 1): equals z^2 for small residuals."""
    if loss == "soft_l1":
        return 2.0 * (np.sqrt(1.0 + z2) - 1.0)
    if loss == "huber":
        return np.where(z2 <= 1.0, z2, 2.0 * np.sqrt(z2) - 1.0)
    if loss == "cauchy":
        return np.log1p(z2)
    if loss == "arctan":
        return np.arctan(z2)
    return z2


def robust_scale(residuals: np.ndarray, n_params: int = 0, floor: float = 0.0) -> float:
    """MAD-based noise scale around zero, inflated for the parameters spent, floored."""
    residuals = np.asarray(residuals, dtype=float)
    if len(residuals) == 0:
        return floor
    mad = MAD_TO_SIGMA * float(np.median(np.abs(residuals)))
    dof = max(len(residuals) - n_params, 1)
    return max(mad * np.sqrt(len(residuals) / dof), floor)


def priority_weights(count_datetime, periods: pd.DataFrame | None, step: float) -> np.ndarray:
    """Observation weight per count: 1 + step * level of the highest priority period covering it.

    ``periods`` has ``period_start``, ``period_end``, ``priority_level`` (and optionally
    ``active``); a count outside every period weighs 1.
    """
    times = pd.to_datetime(pd.Series(np.asarray(count_datetime))).to_numpy()
    weights = np.ones(len(times))
    if periods is None or len(periods) == 0:
        return weights
    if "active" in periods.columns:
        periods = periods[periods["active"].fillna(True).astype(bool)]
    level = np.zeros(len(times))
    for start, end, lvl in zip(pd.to_datetime(periods["period_start"]),
                               pd.to_datetime(periods["period_end"]),
                               periods["priority_level"]):
        inside = (times >= start.to_datetime64()) & (times <= end.to_datetime64())
        level = np.where(inside, np.maximum(level, float(lvl)), level)
    return 1.0 + step * np.maximum(level, 0.0)


def _metrics(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float, float]:
    res = observed - expected
    if len(res) == 0:
        return float("nan"), float("nan"), float("nan")
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    r2 = 1.0 - float(np.sum(res ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    return r2, float(np.sqrt(np.mean(res ** 2))), float(np.mean(np.abs(res)))


@dataclass
class ShrinkageFitter:
    """Fits every product's S and r from an :class:`Exposure`, choosing families by AICc.

    ``fit`` returns self with ``fits_`` (product -> :class:`CurveFit`), ``type_fits_``
    (product type -> pooled :class:`CurveFit`) and ``skipped_`` (product -> reason).
    """

    settings: ModelingSettings = field(default_factory=lambda: CONFIG.modeling)
    families: tuple[str, ...] | None = None
    # Worker processes for the per-product fits (joblib); 1 fits in this process.
    n_jobs: int = 1

    def _families(self) -> list[CurveFamily]:
        names = self.families or self.settings.families
        return [make_family(n, quadratic_horizon_days=self.settings.quadratic_horizon_days)
                for n in names]

    # ---- one product -------------------------------------------------------------------
    def fit_product(self, pe: ProductExposure, weights: np.ndarray | None = None,
                    fixed_surplus_rate: float | None = None, product_type: str | None = None
                    ) -> CurveFit:
        """Individual fit: every family, robust loss, AICc choice."""
        s = self.settings
        weights = np.ones(pe.n_counts) if weights is None else np.asarray(weights, float)
        free, offset, source = _surplus_setup(pe, fixed_surplus_rate, s.min_received_kg)
        floor = max(s.noise_floor_kg, 1e-3 * float(np.median(np.abs(pe.observed))))
        families = self._families()
        # The noise scale sets where the robust loss stops trusting a residual, but it must
        # be estimated from residuals. Start near-L1 (a small scale: outliers barely pull),
        # then re-estimate the scale from the residuals' MAD and refit. A monotone robust
        # loss still feels gross errors a little, and with few counts a surplus rate can
        # trade against the curve to absorb them; so counts beyond reject_z scales are then
        # left out (weight 0) and the rounds repeat on the rest.
        sigma = max(s.initial_relative_scale * float(np.median(np.abs(pe.observed))), floor)
        k_main = families[0].n_params + (free is not None)
        main = None
        kept = _plausible_counts(pe.observed, floor, s.prescreen_spreads)
        last_sigma = sigma
        settled = False
        for _ in range(s.noise_rounds):
            problem = _Problem(pe, np.full(pe.n_counts, sigma), weights * kept, offset, free,
                               s.surplus_rate_bounds)
            starts = family_starts = families[0].starts(pe.rate_hint())
            if main is not None:
                starts = [main.x, *family_starts]
            main = _fit_family(problem, families[0], s, starts, s.round_tolerance)
            residual = pe.observed - main.expected
            sigma = robust_scale(residual[kept], k_main, floor)
            new_kept = np.abs(residual) <= s.reject_z * sigma
            if new_kept.sum() < max(k_main + 2, pe.n_counts // 2):
                break  # rejecting that much would leave the rest unfit: keep what we have
            settled = np.array_equal(new_kept, kept) and abs(sigma - last_sigma) < 0.1 * sigma
            kept = new_kept
            if settled:
                break
            last_sigma = sigma
        problem = _Problem(pe, np.full(pe.n_counts, sigma), weights * kept, offset, free,
                           s.surplus_rate_bounds)
        # the rounds stopped loosely: the kept fit of the main family starts where they ended
        main = _fit_family(problem, families[0], s, [main.x])
        best, results = _select_family(problem, main, families[1:], s, pe.rate_hint())
        return _make_fit(pe, best, INDIVIDUAL, sigma, source, product_type, s,
                         candidates=tuple((r.family.name, r.aicc) for r in results),
                         fixed_surplus_rate=fixed_surplus_rate)

    # ---- many products -----------------------------------------------------------------
    def fit(self, exposure: Exposure, product_types: Mapping | None = None,
            surplus_rates: Mapping | None = None, priority_periods: pd.DataFrame | None = None):
        """Fit all products of ``exposure``.

        ``product_types``: product -> type (missing: one common type "all");
        ``surplus_rates``: product -> fixed r (fraction) from surplus specifications;
        ``priority_periods``: DataFrame(period_start, period_end, priority_level).
        """
        s = self.settings
        product_types = product_types or {}
        surplus_rates = surplus_rates or {}
        counts = exposure.counts
        weights_all = priority_weights(counts["count_datetime"], priority_periods,
                                       s.priority_weight_step)
        self.fits_: dict = {}
        self.type_fits_: dict = {}
        self.skipped_: dict = {}
        per_product = {product: exposure.product(product) for product in exposure.products}
        jobs = [
            (pe, weights_all[pe.count_rows], surplus_rates.get(product),
             product_types.get(product, "all"))
            for product, pe in per_product.items() if pe.n_counts >= s.min_counts_individual
        ]
        for fit in self._fit_individuals(jobs):
            self.fits_[fit.product] = fit
        self._fleet_relative_noise = self._relative_noise(list(self.fits_))

        by_type: dict = {}
        for product, pe in per_product.items():
            if pe.n_counts > 0:
                by_type.setdefault(product_types.get(product, "all"), []).append(product)
        for ptype, members in by_type.items():
            self.type_fits_[ptype] = self._fit_type(
                ptype, members, per_product, weights_all, surplus_rates)

        for product, pe in per_product.items():
            if product in self.fits_:
                continue
            ptype = product_types.get(product, "all")
            type_fit = self.type_fits_.get(ptype)
            if type_fit is None:
                self.skipped_[product] = (
                    f"no usable counts for product {product!r} nor for its type {ptype!r}")
                log.info("skipped %s: %s", product, self.skipped_[product])
                continue
            w = weights_all[pe.count_rows]
            if pe.n_counts >= s.min_counts_shrunk:
                self.fits_[product] = self._fit_shrunk(
                    pe, type_fit, w, surplus_rates.get(product), ptype)
            else:
                self.fits_[product] = self._borrow_type(pe, type_fit, surplus_rates.get(product),
                                                        ptype)
        methods = pd.Series([f.method for f in self.fits_.values()]).value_counts().to_dict()
        log.info("fitted %d products (%s), %d skipped", len(self.fits_), methods, len(self.skipped_))
        return self

    def _fit_individuals(self, jobs: list) -> list[CurveFit]:
        if self.n_jobs == 1 or len(jobs) < 2 * max(self.n_jobs, 1):
            return [self.fit_product(*job) for job in jobs]
        n_chunks = 4 * (self.n_jobs if self.n_jobs > 0 else 4)
        chunks = [jobs[i::n_chunks] for i in range(n_chunks)]
        done = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_chunk)(self, chunk) for chunk in chunks if chunk)
        return [fit for chunk in done for fit in chunk]

    # ---- borrowing strength ------------------------------------------------------------
    def _relative_noise(self, members) -> float:
        ratios = [f.noise_scale / max(float(np.mean(np.abs(_observed_of(f)))), 1e-9)
                  for p in members if (f := self.fits_.get(p)) is not None
                  and f.method == INDIVIDUAL and len(f.residuals)]
        return float(np.median(ratios)) if ratios else self.settings.default_relative_noise

    def _sigma_for(self, product, pe: ProductExposure, relative_noise: float) -> float:
        fit = self.fits_.get(product)
        if fit is not None and fit.method == INDIVIDUAL:
            return fit.noise_scale
        return max(self.settings.noise_floor_kg,
                   relative_noise * float(np.mean(np.abs(pe.observed))) if pe.n_counts else 0.0)

    def _fit_type(self, ptype, members, per_product, weights_all, surplus_rates) -> CurveFit:
        """Pooled fit over a type's products; known r fixed per product, one shared r for the rest."""
        s = self.settings
        members = sorted(members, key=lambda p: -per_product[p].n_counts)[: s.max_pooled_products]
        relative_noise = self._relative_noise(members)
        parts, sigma, offset, free_q, known_rates = [], [], [], [], []
        for product in members:
            pe = per_product[product]
            parts.append(pe)
            sigma.append(np.full(pe.n_counts, self._sigma_for(product, pe, relative_noise)))
            known = surplus_rates.get(product)
            fit = self.fits_.get(product)
            if known is None and fit is not None and fit.surplus_source == "estimated":
                known = fit.surplus_rate
            offset.append((known or 0.0) * pe.received)
            if known is not None and float(pe.received.sum()) > s.min_received_kg:
                known_rates.append(known)
            free_q.append(pe.received if known is None else np.zeros(pe.n_counts))
        pooled = ProductExposure.concat(parts)
        free = np.concatenate(free_q)
        has_free = float(free.sum()) > s.min_received_kg
        problem = _Problem(pooled, np.concatenate(sigma), weights_all[pooled.count_rows],
                           np.concatenate(offset), free if has_free else None,
                           s.surplus_rate_bounds)
        families = self._families()
        main = _fit_family(problem, families[0], s)
        best, results = _select_family(problem, main, families[1:], s, pooled.rate_hint())
        # the type's r (lent to products that borrow): the shared estimate when there was one,
        # else the median of its members' own rates
        if has_free:
            source, rate = "estimated", None
        elif known_rates:
            source, rate = "members", float(np.median(known_rates))
        else:
            source, rate = "none", 0.0
        fit = _make_fit(pooled, best, POOLED, float(np.median(np.concatenate(sigma))), source,
                        ptype, s, candidates=tuple((r.family.name, r.aicc) for r in results),
                        product=ptype, surplus_rate=rate)
        log.info("type %s: pooled %s over %d products", ptype, fit.family, len(members))
        return fit

    def _fit_shrunk(self, pe, type_fit: CurveFit, weights, fixed_r, ptype) -> CurveFit:
        """Own fit of the type's family, pulled toward the type curve at the reference ages."""
        s = self.settings
        family = type_fit.curve()
        ages = np.asarray(s.reference_ages_days, dtype=float)
        target = family.predict(ages)
        tau = s.shrink_prior_rel * target + s.shrink_prior_abs
        free, offset, source = _surplus_setup(pe, fixed_r, s.min_received_kg)
        r_target = type_fit.surplus_rate if free is not None else None
        sigma = self._sigma_for(None, pe, self._fleet_relative_noise)
        problem = _Problem(pe, np.full(pe.n_counts, sigma), weights, offset, free,
                           s.surplus_rate_bounds, _Penalty(ages, target, tau, r_target, s.shrink_prior_r))
        result = _fit_family(problem, family, s, [family.theta_, *family.starts(pe.rate_hint())])
        return _make_fit(pe, result, SHRUNK, sigma, source, ptype, s,
                         fixed_surplus_rate=fixed_r)

    def _borrow_type(self, pe, type_fit: CurveFit, fixed_r, ptype) -> CurveFit:
        """The type curve as is (too few counts of its own), with the product's figures."""
        s = self.settings
        family = type_fit.curve()
        if fixed_r is not None:
            r, source = float(fixed_r), "specified"
        elif pe.n_counts and float(pe.received.sum()) > s.min_received_kg:
            r, source = type_fit.surplus_rate, "type"
        else:
            r, source = 0.0, "none"
        expected = pe.expected_shortage(family, family.theta_, r)
        sigma = self._sigma_for(None, pe, self._fleet_relative_noise)
        result = _FamilyResult(family, family.theta_, None, float("nan"), expected,
                               float("nan"))
        return _make_fit(pe, result, POOLED, sigma, source, ptype, s, surplus_rate=r)


def _plausible_counts(observed: np.ndarray, floor: float, spreads: float) -> np.ndarray:
    """Counts whose shortage is not far outside the product's usual range, to start from.

    A keying error and its reversal at the next count are two huge shortages of opposite
    sign. Fitted from the start they can pull the curve and the surplus rate into a
    degenerate pair (a large fast loss cancelled by a large r on receipts) that explains
    both; left out of the first round they are judged by the residuals of a sane fit (and
    come back in if they fit it).
    """
    observed = np.asarray(observed, dtype=float)
    centre = float(np.median(observed))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(observed - centre)))
    scale = max(spread, 0.25 * abs(centre), floor)
    kept = np.abs(observed - centre) <= spreads * scale
    return kept if kept.sum() >= max(len(observed) // 2, 1) else np.ones(len(observed), bool)


def _fit_chunk(fitter: ShrinkageFitter, jobs: list) -> list[CurveFit]:
    """Worker-side: individual fits of a chunk of products (module level, so it pickles)."""
    return [fitter.fit_product(*job) for job in jobs]


def _observed_of(fit: CurveFit) -> np.ndarray:
    return np.asarray(fit.residuals) + np.asarray(fit.expected)


def _surplus_setup(pe: ProductExposure, fixed_r: float | None, min_received_kg: float):
    """(free received or None, fixed offset r Q, source) for one product's counts."""
    if fixed_r is not None:
        return None, float(fixed_r) * pe.received, "specified"
    if float(pe.received.sum()) > min_received_kg:
        return pe.received, np.zeros(pe.n_counts), "estimated"
    return None, np.zeros(pe.n_counts), "none"


def _make_fit(pe: ProductExposure, result: _FamilyResult, method: str, sigma: float,
              source: str, product_type, settings: ModelingSettings, candidates=(),
              fixed_surplus_rate: float | None = None, surplus_rate: float | None = None,
              product=None) -> CurveFit:
    if surplus_rate is None:
        if fixed_surplus_rate is not None:
            surplus_rate = float(fixed_surplus_rate)
        else:
            surplus_rate = float(result.r) if result.r is not None else 0.0
    r2, rmse, mae = _metrics(pe.observed, result.expected)
    return CurveFit(
        product=product if product is not None else pe.products[0],
        family=result.family.name,
        params=result.family.params_from_theta(result.theta),
        surplus_rate=surplus_rate, surplus_source=source,
        r2=r2, rmse=rmse, mae=mae, aicc=float(result.aicc),
        n_observations=int(pe.n_counts), method=method, noise_scale=float(sigma),
        product_type=product_type,
        count_rows=tuple(int(i) for i in pe.count_rows),
        residuals=tuple(float(v) for v in pe.observed - result.expected),
        expected=tuple(float(v) for v in result.expected),
        candidates=candidates,
        quadratic_horizon_days=settings.quadratic_horizon_days,
    )
