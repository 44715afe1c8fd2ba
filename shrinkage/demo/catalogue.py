"""The demo store's assortment and the plausible physics of each product type.

The names are the kind a Russian fish shop keeps in 1C (including awkward ones with quotes,
slashes and trailing spaces, which readers must survive). Each name classifies to the type
listed next to it under the keyword table of :mod:`shrinkage.config`; a unit test holds that
promise. The type profiles encode docs/DOMAIN.md "Plausible magnitudes": they are assumptions of
the simulator, not knobs of the pipeline, so they live here rather than in config.
"""

from __future__ import annotations

from dataclasses import dataclass

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS, OTHER_PRODUCT_TYPE

FISH = "РЫБА"


@dataclass(frozen=True)
class CatalogueItem:
    name: str
    product_type: str
    group_path: tuple[str, ...]


@dataclass(frozen=True)
class TypeProfile:
    """Ranges a product of one type draws its true behaviour from (uniformly, per seed)."""

    a: tuple[float, float]  # asymptotic fast-phase loss (fraction)
    b: tuple[float, float]  # fast-phase rate (1/day)
    c: tuple[float, float]  # slow drift (fraction/day)
    surplus_share: float  # share of products of this type that arrive heavier than documented
    surplus_rate: tuple[float, float]  # r for those products
    demand_kg_per_day: tuple[float, float]
    delivery_every_days: tuple[int, int]
    initial_age_days: tuple[float, float]  # ages of the batches on hand when the simulation starts
    write_off_per_day: float  # probability of a spoilage write-off on a given day


def _profile(a, b, c, demand, every, ages, write_off, surplus_share=0.0, surplus_rate=(0.0, 0.0)) -> TypeProfile:
    return TypeProfile(a, b, c, surplus_share, surplus_rate, demand, every, ages, write_off)


TYPE_PROFILES: dict[str, TypeProfile] = {
    # a (fraction), b (1/day), c (fraction/day), demand (kg/day), delivery every (days),
    # ages of the opening batches (days), write-off probability per day. Frozen drift is
    # quoted per month in the trade (~0.1 %/month), hence the "/ 30".
    "dried": _profile((0.04, 0.08), (0.10, 0.30), (0.0003, 0.0008), (1.0, 4.0), (5, 9), (1, 40), 0.004),
    "cold_smoked": _profile((0.03, 0.06), (0.10, 0.25), (0.0002, 0.0005), (1.5, 5.0), (4, 7), (1, 20), 0.008),
    "hot_smoked": _profile((0.03, 0.06), (0.20, 0.50), (0.0002, 0.0005), (2.0, 6.0), (3, 5), (1, 10), 0.012),
    "smoked": _profile((0.03, 0.05), (0.15, 0.35), (0.0002, 0.0004), (1.0, 4.0), (4, 7), (1, 15), 0.008),
    "salted": _profile((0.01, 0.03), (0.05, 0.15), (0.0001, 0.0003), (1.5, 5.0), (4, 8), (1, 25), 0.006,
                       surplus_share=0.25, surplus_rate=(0.01, 0.02)),  # brine
    "frozen": _profile((0.0008, 0.0015), (0.10, 0.20), (0.0008 / 30, 0.0012 / 30), (2.0, 8.0), (7, 14), (5, 400),
                       0.002, surplus_share=0.3, surplus_rate=(0.01, 0.03)),  # light glaze
    "chilled": _profile((0.003, 0.005), (0.20, 0.40), (0.00005, 0.0002), (3.0, 10.0), (2, 3), (0.2, 3), 0.03),
    "caviar": _profile((0.005, 0.010), (0.05, 0.10), (0.00005, 0.0001), (0.2, 1.0), (7, 14), (2, 60), 0.002),
    "seafood": _profile((0.0010, 0.0020), (0.10, 0.20), (0.00003, 0.00005), (1.0, 4.0), (7, 14), (5, 400), 0.002,
                        surplus_share=1.0, surplus_rate=(0.04, 0.10)),  # glaze on frozen seafood
    "preserves": _profile((0.0005, 0.0010), (0.05, 0.10), (0.00001, 0.00002), (0.5, 2.0), (7, 14), (5, 120), 0.002),
    "other": _profile((0.005, 0.015), (0.10, 0.20), (0.00005, 0.0001), (1.0, 4.0), (4, 7), (1, 20), 0.01),
}

_DRIED = (FISH, "ВЯЛЕНАЯ РЫБА (весовой товар)")
_SMOKED = (FISH, "КОПЧЕНАЯ РЫБА (весовой товар)")
_SALTED = (FISH, "СОЛЕНАЯ РЫБА (весовой товар)")
_FROZEN = (FISH, "МОРОЖЕНАЯ РЫБА (весовой товар)")
_CHILLED = (FISH, "ОХЛАЖДЕННАЯ РЫБА (весовой товар)")
_CAVIAR = ("ИКРА (весовой товар)",)
_SEAFOOD = ("МОРЕПРОДУКТЫ (весовой товар)",)
_PRESERVES = ("ПРЕСЕРВЫ (весовой товар)",)
_OTHER = ("ПРОЧЕЕ (весовой товар)",)

# Ordered so that any prefix of the list mixes the types (round robin through the types).
_BY_TYPE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dried": (_DRIED, ("ВОБЛА ВЯЛЕНАЯ", "ЛЕЩ ВЯЛЕНЫЙ ", "ТАРАНЬ ВЯЛЕНАЯ", 'ПЛОТВА ВЯЛЕНАЯ "АСТРАХАНСКАЯ"',
                       "КОРЮШКА СУШЕНАЯ", "ЧЕХОНЬ ВЯЛЕНАЯ", "ЯЗЬ ВЯЛЕНЫЙ", "СНЕТОК СУШЕНЫЙ")),
    "cold_smoked": (_SMOKED, ("СЕЛЬДЬ Х/К", "СКУМБРИЯ Х/К", "ГОРБУША Х/К", "ЛОСОСЬ Х/К ЛОМТИКИ",
                              "МАСЛЯНАЯ РЫБА Х/К 1/2", "ПАЛТУС Х/К")),
    "hot_smoked": (_SMOKED, ("СКУМБРИЯ Г/К", 'ПАЛТУС Г/К "ПРЕМИУМ"', "ГОРБУША Г/К", "ТРЕСКА Г/К",
                             "ЗУБАТКА Г/К ", "ОКУНЬ МОРСКОЙ Г/К")),
    "smoked": (_SMOKED, ("ЛЕЩ КОПЧЕНЫЙ", "СОМ КОПЧЕНЫЙ", "УГОРЬ КОПЧЕНЫЙ")),
    "salted": (_SALTED, ("СЕЛЬДЬ С/С", "ФОРЕЛЬ СЛАБОСОЛЕНАЯ ФИЛЕ", "ГОРБУША С/С", "КИЛЬКА СОЛЕНАЯ",
                         "ХАМСА С/С ", "СЕЛЬДЬ СЛАБОСОЛЕНАЯ")),
    "frozen": (_FROZEN, ("МИНТАЙ С/М", "ХЕК С/М Б/Г", "МОЙВА С/М", "ПАНГАСИУС ФИЛЕ С/М",
                         "СКУМБРИЯ С/М 300/500", "ТРЕСКА С/М Б/Г", "КАМБАЛА С/М")),
    "chilled": (_CHILLED, ("ФОРЕЛЬ ОХЛ", "ДОРАДО ОХЛ", "СЕМГА ОХЛ", "СИБАС ОХЛ ")),
    "caviar": (_CAVIAR, ("ИКРА ГОРБУШИ ЗЕРНИСТАЯ", "ИКРА МИНТАЯ ПРОБОЙНАЯ", 'ИКРА ЩУКИ "ЯСТЫЧНАЯ"',
                         "ИКРА КЕТЫ")),
    "seafood": (_SEAFOOD, ("КРЕВЕТКИ С/М 70/90", "КАЛЬМАР ТУШКА С/М", "МИДИИ В/М В РАКОВИНЕ",
                           "КРЕВЕТКИ КОРОЛЕВСКИЕ С/М 16/20", "КРАБОВОЕ МЯСО С/М")),
    "preserves": (_PRESERVES, ("ПРЕСЕРВЫ СЕЛЬДЬ В МАСЛЕ ", "ПРЕСЕРВЫ ФИЛЕ СЕЛЬДИ В ВИННОМ СОУСЕ")),
    "other": (_OTHER, ("ФИЛЕ ТРЕСКИ В КЛЯРЕ", 'ФАРШ РЫБНЫЙ "ДОМАШНИЙ"')),
}


def _round_robin() -> tuple[CatalogueItem, ...]:
    queues = {t: list(names) for t, (_, names) in _BY_TYPE.items()}
    items: list[CatalogueItem] = []
    while any(queues.values()):
        for product_type, queue in queues.items():
            if queue:
                items.append(CatalogueItem(queue.pop(0), product_type, _BY_TYPE[product_type][0]))
    return tuple(items)


CATALOGUE: tuple[CatalogueItem, ...] = _round_robin()

PRODUCT_TYPE_CODES: dict[str, str] = {
    **{product_type: code for product_type, code, _ in DEFAULT_PRODUCT_TYPE_KEYWORDS},
    OTHER_PRODUCT_TYPE[0]: OTHER_PRODUCT_TYPE[1],
}


def pick_products(count: int) -> tuple[CatalogueItem, ...]:
    """The first ``count`` catalogue items, cycling with numbered variants (``№2``...) past the end.

    The number goes before any trailing spaces so the odd-name cases stay odd.
    """
    if count < 1:
        raise ValueError(f"products must be at least 1, got {count}")
    picked = []
    for i in range(count):
        item = CATALOGUE[i % len(CATALOGUE)]
        variant = i // len(CATALOGUE) + 1
        if variant > 1:
            stem = item.name.rstrip(" ")
            tail = item.name[len(stem):]
            item = CatalogueItem(f"{stem} №{variant}{tail}", item.product_type, item.group_path)
        picked.append(item)
    return tuple(picked)
