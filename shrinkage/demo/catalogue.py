"""The demo store's assortment and the plausible physics of each product type.

The names are the kind a Russian fish shop keeps in 1C (including awkward ones with quotes,
slashes and trailing spaces, which readers must survive). Each name classifies to the type
listed next to it under the keyword table of :mod:`shrinkage.config`; a unit test holds that
promise. The type profiles encode docs/DOMAIN.md "Plausible magnitudes": they are assumptions of
the simulator, not knobs of the pipeline, so they live here rather than in config.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from shrinkage.config import DEFAULT_PRODUCT_TYPE_KEYWORDS, OTHER_PRODUCT_TYPE

FISH = "РЫБА"


@dataclass(frozen=True)
class CatalogueItem:
    name: str
    product_type: str  # the type an analyst would give it (the classifier's expected answer)
    group_path: tuple[str, ...]  # () = directly under the warehouse, outside any group
    physics: str | None = None  # key of PHYSICS_PROFILES when it differs from product_type
    traits: tuple[str, ...] = ()  # what makes the name or its place awkward (see REALISTIC_TRAITS)

    @property
    def profile(self) -> TypeProfile:
        return PHYSICS_PROFILES[self.physics or self.product_type]


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

# Physics of goods that only the realistic catalogue has: snacks sold by weight barely dry out
# (scale noise dominates their counts); glazed frozen fish arrives 5-8 % heavier than its
# documents; a slow frozen line keeps batches from up to ~1,000 days ago in stock.
PHYSICS_PROFILES: dict[str, TypeProfile] = {
    **TYPE_PROFILES,
    "snack": _profile((0.001, 0.004), (0.05, 0.20), (0.000005, 0.00002), (0.5, 2.5), (5, 10), (1, 30), 0.003),
    "frozen_glazed": _profile((0.0008, 0.0015), (0.10, 0.20), (0.0008 / 30, 0.0012 / 30), (3.0, 8.0), (6, 10),
                              (5, 300), 0.002, surplus_share=1.0, surplus_rate=(0.05, 0.08)),
    "frozen_old": _profile((0.0008, 0.0015), (0.10, 0.20), (0.0008 / 30, 0.0012 / 30), (1.0, 3.0), (10, 14),
                           (200, 1000), 0.001),
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


def pick_products(count: int, catalogue: tuple[CatalogueItem, ...] | None = None) -> tuple[CatalogueItem, ...]:
    """The first ``count`` catalogue items, cycling with numbered variants (``№2``...) past the end.

    The number goes before any trailing spaces so the odd-name cases stay odd.
    """
    catalogue = catalogue or CATALOGUE
    if count < 1:
        raise ValueError(f"products must be at least 1, got {count}")
    picked = []
    for i in range(count):
        item = catalogue[i % len(catalogue)]
        variant = i // len(catalogue) + 1
        if variant > 1:
            stem = item.name.rstrip(" ")
            tail = item.name[len(stem):]
            item = replace(item, name=f"{stem} №{variant}{tail}")
        picked.append(item)
    return tuple(picked)


# ---------------------------------------------------------------------------------------
# The realistic assortment (DOMAIN.md "What real exports contain")
# ---------------------------------------------------------------------------------------

# Traits a realistic item can carry; the ground truth lists them so tests can find examples.
REALISTIC_TRAITS = {
    "backslash": "abbreviation written with a backslash (Г\\К, Х\\К, С\\М)",
    "abbreviation": "a real-export abbreviation (ХОЛ КОП, П/П, Б/Г, С/Г, ЗАМ)",
    "type_from_group": "the name carries no type word; its group does",
    "unmarked_cut": "fish fillet, steak or cubes without a type word (frozen)",
    "fish_flavour": "a snack whose flavour name mentions fish or another type word",
    "type_word_trap": "a snack whose name holds a type keyword (ВЯЛ, СОЛЕН, КОПЧ, ХОЛОД)",
    "top_level": "placed directly under the warehouse, outside any group (sorted among the groups)",
    "slow_seller": "sells slowly: some weeks it has stock but no document",
    "glazed": "glazed frozen goods: arrive heavier than documented",
    "old_stock": "opening stock holds batches up to ~1,000 days old",
    "double_space": "two spaces in a row inside the name",
    "trailing_space": "a trailing space",
    "quotes": "double quotes in the name",
}

_R_FISH = FISH
_R_DRIED = _DRIED
_R_SUSHKA = (_R_FISH, "СУШКА")
_R_COLD = (_R_FISH, "КОПЧЕНАЯ РЫБА (весовой товар)", "ХОЛОДНОГО КОПЧЕНИЯ")
_R_HOT = (_R_FISH, "КОПЧЕНАЯ РЫБА (весовой товар)", "ГОРЯЧЕГО КОПЧЕНИЯ")
_R_SALTED = (_R_FISH, "СЕЛЬДЬ, СОЛЕНАЯ РЫБА")
_R_FROZEN = _FROZEN
_R_CARCASS = (_R_FISH, "Тушка")
_R_FILLET = (_R_FISH, "ФИЛЕ")
_R_CUTS = (_R_FISH, "РЫБНЫЕ ПОЛУФАБРИКАТЫ")
_R_CHILLED = (_R_FISH, "ОХЛАЖДЕННАЯ РЫБА")
_R_CAVIAR, _R_SEAFOOD, _R_PRESERVES = _CAVIAR, _SEAFOOD, _PRESERVES
_R_CROUTONS = ("СНЕКИ (весовой товар)", "ГРЕНКИ, СУХАРИКИ")
_R_NUTS = ("СНЕКИ (весовой товар)", "ОРЕХИ, СЕМЕЧКИ")
_R_CHIPS = ("СНЕКИ (весовой товар)", "ЧИПСЫ")
_R_DELI = ("ЗАКУСКИ (весовой товар)",)
_R_SAUCES = ("СОУСЫ",)


def _fish(name, product_type, group, physics=None, *traits) -> CatalogueItem:
    return CatalogueItem(name, product_type, group, physics, traits)


def _snack(name, group, *traits) -> CatalogueItem:
    return CatalogueItem(name, OTHER_PRODUCT_TYPE[0], group, "snack", traits)


# In order of importance: the first 15 of each list (a 30-product store) already hold every
# trait; past that, more types and more of the same.
_REALISTIC_FISH = (
    _fish("СКУМБРИЯ Х\\К", "cold_smoked", _R_COLD, None, "backslash"),
    _fish("ВОБЛА", "dried", _R_DRIED, None, "type_from_group"),
    _fish("МИНТАЙ Б/Г", "frozen", _R_FROZEN, "frozen_glazed", "abbreviation", "glazed"),
    _fish("СКУМБРИЯ Г\\К", "hot_smoked", _R_HOT, None, "backslash"),
    _fish("СЕЛЬДЬ П/П", "salted", _R_SALTED, None, "abbreviation"),
    _fish("ТРЕСКА С\\М  Б/Г", "frozen", _R_FROZEN, "frozen_old", "backslash", "abbreviation", "old_stock"),
    _fish("ГОРБУША ХОЛ КОП", "cold_smoked", _R_COLD, None, "abbreviation"),
    _fish("КОРЮШКА", "dried", _R_SUSHKA, None, "type_from_group"),
    _fish("ПАНГАСИУС", "frozen", _R_FILLET, "frozen", "type_from_group"),
    _fish("ИКРА ГОРБУШИ", "caviar", _R_CAVIAR),
    _fish('КАМБАЛА ВЯЛЕНАЯ "АКЦИЯ"', "dried", (), None, "top_level", "slow_seller"),
    _fish("НОТОТЕНИЯ 200-300", "frozen", _R_CARCASS, None, "type_from_group"),
    _fish("ХЕК С/Г", "frozen", _R_FROZEN, None, "abbreviation"),
    _fish("КУБИКИ ГОРБУШИ", "frozen", _R_CUTS, None, "unmarked_cut"),
    _fish("СКУМБРИЯ ЗАМ 400-600 ", "frozen", _R_FROZEN, None, "abbreviation"),
    _fish("ФОРЕЛЬ ОХЛ.", "chilled", _R_CHILLED),
    _fish("КРЕВЕТКИ 70/90 В/М", "seafood", _R_SEAFOOD, None, "glazed"),
    _fish("ФИЛЕ ХЕКА", "frozen", _R_CUTS, None, "unmarked_cut"),
    _fish("СТЕЙК ЛОСОСЯ", "frozen", _R_CUTS, None, "unmarked_cut"),
    _fish("САЛАКА КОПЧЕНАЯ", "smoked", _R_HOT),
    _fish("ПРЕСЕРВЫ СЕЛЬДЬ В МАСЛЕ", "preserves", _R_PRESERVES),
    _fish("ЛЕЩ  ВЯЛЕНЫЙ ", "dried", _R_DRIED),
    _fish("МАСЛЯНАЯ Х/К кусок", "cold_smoked", _R_COLD),
    _fish("ЛЕЩ Г/К", "hot_smoked", _R_HOT),
    _fish('СЕЛЬДЬ С/С "ОТБОРНАЯ"', "salted", _R_SALTED),
    _fish("ХАМСА П/П ", "salted", _R_SALTED, None, "abbreviation"),
    _fish("КАМБАЛА ЗАМ", "frozen", _R_FROZEN, None, "abbreviation"),
    _fish("МИДИИ В РАКОВИНЕ", "seafood", _R_SEAFOOD),
    _fish("ИКРА МИНТАЯ ПРОБОЙНАЯ", "caviar", _R_CAVIAR),
    _fish("ДОРАДО ОХЛ", "chilled", _R_CHILLED),
    _fish("ТИЛАПИЯ", "frozen", _R_CARCASS, None, "type_from_group"),
    _fish("ЮКОЛА ИЗ КЕТЫ", "dried", _R_SUSHKA, None, "type_from_group"),
    _fish("ЧЕХОНЬ", "dried", _R_DRIED, None, "type_from_group"),
    _fish("ПАЛТУС ХОЛ КОП ЛОМТИКИ", "cold_smoked", _R_COLD, None, "abbreviation"),
    _fish("СТЕЙКИ ТРЕСКИ", "frozen", _R_CUTS, None, "unmarked_cut"),
)
_REALISTIC_SNACKS = (
    _snack('ГРЕНКИ "КРАСНАЯ ИКРА"', _R_CROUTONS, "fish_flavour"),
    _snack("АРАХИС (ХОЛОДЕЦ/ХРЕН)", _R_NUTS, "type_word_trap"),
    _snack("Гренки ржаные  камчатский краб", _R_CROUTONS, "fish_flavour"),
    _snack("ФИСТАШКИ ЖАРЕНЫЕ", _R_NUTS),
    _snack("ОЛИВКИ Б/К", _R_DELI),
    _snack("ТОМАТЫ ВЯЛЕНЫЕ В МАСЛЕ", _R_DELI, "type_word_trap"),
    _snack('ЧИПСЫ КАРТОФЕЛЬНЫЕ "КРАБ"', _R_CHIPS, "fish_flavour"),
    _snack("АРАХИС СОЛЕНЫЙ", _R_NUTS, "type_word_trap"),
    _snack('САЛАТ "ЧУКА"', _R_DELI),
    _snack('СОУС "ТАРТАР" ', _R_SAUCES),
    _snack('СУХАРИКИ "ХОЛОДЕЦ С ХРЕНОМ"', _R_CROUTONS, "type_word_trap"),
    _snack('ГРЕНКИ "КОПЧЕНАЯ ГРУДИНКА"', _R_CROUTONS, "type_word_trap"),
    _snack("КЕШЬЮ ЖАРЕНЫЙ", _R_NUTS),
    _snack("САЛАТ ИЗ МОРСКОЙ КАПУСТЫ", _R_DELI),
    _snack('ЧИПСЫ "КРАСНАЯ ИКРА"', _R_CHIPS, "fish_flavour"),
    _snack("МАСЛИНЫ  Б/К", _R_DELI),
    _snack("ФИСТАШКИ СОЛЕНЫЕ", _R_NUTS, "type_word_trap"),
    _snack("МИНДАЛЬ", _R_NUTS),
    _snack('АРАХИС В ГЛАЗУРИ "ВАСАБИ"', _R_NUTS),
    _snack("КУКУРУЗА ЖАРЕНАЯ", _R_NUTS),
    _snack("СЕМЕЧКИ ТЫКВЕННЫЕ", _R_NUTS),
    _snack("СОУС СЫРНЫЙ", _R_SAUCES),
    _snack('Гренки пшеничные "Холодец с хреном"', _R_CROUTONS, "type_word_trap"),
    _snack("ЧЕСНОК МАРИНОВАННЫЙ", _R_DELI),
    _snack("ЛУК ЖАРЕНЫЙ", _R_NUTS),
)


def _text_traits(item: CatalogueItem) -> CatalogueItem:
    found = [t for t, present in (("double_space", "  " in item.name.strip()),
                                  ("trailing_space", item.name != item.name.rstrip()),
                                  ("quotes", '"' in item.name)) if present]
    return replace(item, traits=item.traits + tuple(t for t in found if t not in item.traits))


def _interleave(*lists: tuple[CatalogueItem, ...]) -> tuple[CatalogueItem, ...]:
    """Alternate the lists (fish, snack, fish...) so any prefix is about half non-fish."""
    out = []
    for i in range(max(len(x) for x in lists)):
        out.extend(_text_traits(x[i]) for x in lists if i < len(x))
    return tuple(out)


REALISTIC_CATALOGUE: tuple[CatalogueItem, ...] = _interleave(_REALISTIC_FISH, _REALISTIC_SNACKS)
