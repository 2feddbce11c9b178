"""The synthetic demo population: a reproducible imitation of Dutch youth care.

:func:`make_demo` draws a population of fictional youths and their trajectories (jeugdhulp,
jeugdbescherming, jeugdreclassering) at fictional institutions, with the proportions of the national
CBS figures, realistic missingness, case-mix that differs between institutions and drives the
outcomes, and *true institution effects* on the outcomes that the case-mix adjustment should recover.
The truth is kept in ``Dataset.meta``. ``data/README.md`` describes every assumption.

Run ``python -m outcome_analysis.demo --out data/demo`` to write the files.

Everything is vectorised with NumPy: loops run over the steps of a chain of measures, over rounds of
returning youths, over care types and institutions, never over youths or rows.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from outcome_analysis import atomic
from outcome_analysis.contract import schema
from outcome_analysis.contract.dataset import Dataset
from outcome_analysis.contract.mapping import BESIDE_DATA, DEMO_MAPPING, REORGANISATIONS_SUFFIX, reorganisations_path
from outcome_analysis.settings import DELIVERY_SETTINGS_FILE

# ---------------------------------------------------------------------------
# Institutions (fictional). Sizes vary strongly: a few large, many small.
# ---------------------------------------------------------------------------

#: gecertificeerde instellingen: name, relative JB volume, relative JR volume.
GIS: tuple[tuple[str, float, float], ...] = (
    ("Jeugdbescherming Randstad Midden", 22.0, 18.0),
    ("Jeugdbescherming Delta Zuid", 15.0, 12.0),
    ("Jeugdbescherming Regio Waterland", 12.0, 9.0),
    ("GI Veluwe-IJssel", 10.0, 10.0),
    ("Jeugdbescherming Kempen & Peel", 9.0, 7.0),
    ("Stichting Veilig Opgroeien Rivierenland", 8.0, 6.0),
    ("Jeugdbescherming Groene Hart", 7.0, 5.0),
    ("Gecertificeerde Instelling Twente-Achterhoek", 6.0, 5.0),
    ("Jeugdbescherming Zuid-Limburg Heuvelland", 5.0, 4.0),
    ("Landelijke Stichting Jeugdbescherming Plus", 3.0, 20.0),
    ("Jeugdbescherming Wadden", 1.5, 1.0),
    ("Jeugdbescherming Eilanden", 0.6, 0.25),
)

#: relative weight of the jeugdhulp care forms (ambulant, daghulp, pleegzorg, verblijf) per profile.
PROVIDER_PROFILES = {
    "ambulant": (1.0, 0.02, 0.0, 0.0),
    "breed": (0.7, 0.1, 0.05, 0.15),
    "dag": (0.5, 0.5, 0.0, 0.0),
    "pleegzorg": (0.3, 0.0, 0.7, 0.0),
    "verblijf": (0.35, 0.05, 0.05, 0.55),
}

#: jeugdhulp providers: name, relative volume, profile.
PROVIDERS: tuple[tuple[str, float, str], ...] = (
    ("Stichting Jeugdhulp Delta", 30.0, "breed"),
    ("Stichting Jeugdhulp De Brug", 22.0, "breed"),
    ("Jeugdzorg Midden-Nederland", 16.0, "breed"),
    ("Opvoedpoli Vlietland", 13.0, "ambulant"),
    ("Jeugdzorg De Wissel", 11.0, "breed"),
    ("Kinder- en Jeugdpraktijk Het Kompas", 9.0, "ambulant"),
    ("Pleegzorg Oost-Nederland", 8.0, "pleegzorg"),
    ("Zorggroep 't Anker & Partners", 7.5, "verblijf"),
    ("Jeugdhulp Zeeuwse Stromen", 7.0, "breed"),
    ("Stichting Kwadraat Jeugd", 6.5, "ambulant"),
    ("Het Jeugdhuis Noord", 6.0, "verblijf"),
    ("Youké Jeugd & Gezin", 5.5, "ambulant"),
    ("Ambulante Jeugdhulp Amstelland", 5.0, "ambulant"),
    ("Stichting De Horizonhoeve", 4.6, "verblijf"),
    ("Pleeggezinnen West", 4.2, "pleegzorg"),
    ("Jeugd-GGZ Polderland", 4.0, "ambulant"),
    ("Dagbehandeling De Speelschuur", 3.6, "dag"),
    ("Gezinshuizen Nederland", 3.2, "verblijf"),
    ("Stichting Jeugdhulp Kennemerland", 3.0, "breed"),
    ("Praktijk voor Opvoeding Rijnstreek", 2.7, "ambulant"),
    ("Jeugdhulp Over de Maas", 2.4, "breed"),
    ("Behandelcentrum De Linde", 2.2, "dag"),
    ("Stichting Samen Sterk Jeugd", 2.0, "ambulant"),
    ("Gezinspraktijk Vechtdal", 1.8, "ambulant"),
    ("Jeugdhulp Achter de Duinen", 1.6, "ambulant"),
    ("Kindcentrum De Vlinder", 1.4, "dag"),
    ("Stichting Het Groene Huis", 1.2, "verblijf"),
    ("Jeugdpraktijk Lekstroom", 1.0, "ambulant"),
    ("Orthopedagogenpraktijk Bommelerwaard", 0.8, "ambulant"),
    ("Pleegzorg Friesland-Noord", 0.7, "pleegzorg"),
    ("Jeugdhulp De Kleine Beer", 0.5, "ambulant"),
    ("Stichting Kamers met Kansen Jeugd", 0.4, "verblijf"),
    ("Praktijk Jeugd & Gezin Oisterwijk", 0.25, "ambulant"),
    ("Gezinscoaching Texel", 0.08, "ambulant"),
    ("Jeugdhulp Schiermonnikoog", 0.05, "ambulant"),
)

#: true institution effects fixed by name (logit scale, positive = better outcomes); every other
#: institution gets a small random effect N(0, EFFECT_SD) drawn from the seed.
NOTABLE_EFFECTS: dict[tuple[str, str], float] = {
    ("Jeugdbescherming Delta Zuid", "jb"): 0.5,
    ("Jeugdbescherming Wadden", "jb"): -0.6,
    ("GI Veluwe-IJssel", "jr"): -0.5,
    ("Landelijke Stichting Jeugdbescherming Plus", "jr"): 0.4,
    ("Opvoedpoli Vlietland", "jeugdhulp"): 0.5,
    ("Jeugdzorg De Wissel", "jeugdhulp"): -0.5,
    ("Kinder- en Jeugdpraktijk Het Kompas", "jeugdhulp"): 0.4,
    ("Zorggroep 't Anker & Partners", "jeugdhulp"): -0.4,
    # the two largest institutions have an exactly average effect but a heavy case-mix (below)
    ("Jeugdbescherming Randstad Midden", "jb"): 0.0,
    ("Jeugdbescherming Randstad Midden", "jr"): 0.0,
    ("Stichting Jeugdhulp Delta", "jeugdhulp"): 0.0,
}
EFFECT_SD = 0.08

#: case-mix shift of an institution's youths on the latent severity scale (SD units); default 0.
CASEMIX_SHIFT: dict[str, float] = {
    "Jeugdbescherming Randstad Midden": 0.8,
    "Stichting Jeugdhulp Delta": 0.8,
    "Jeugdbescherming Eilanden": -0.4,
    "Opvoedpoli Vlietland": -0.3,
    "Jeugdzorg De Wissel": 0.2,
    "Het Jeugdhuis Noord": 0.5,
    "Stichting De Horizonhoeve": 0.4,
    "Kinder- en Jeugdpraktijk Het Kompas": -0.4,
    "Praktijk voor Opvoeding Rijnstreek": -0.3,
    "Landelijke Stichting Jeugdbescherming Plus": 0.3,
}

#: the demo's gemeenten: code, demo jeugdregio (0-11: R01-R12 of the demo mapping
#: ``data/mappings/demo.csv``, which names them) and a weight: roughly the gemeente's number of
#: inhabitants aged 0-17 in thousands (rounded orders of magnitude, not CBS figures). A youth lives in
#: a gemeente of its region with probability proportional to the weight, so the demo has gemeenten
#: with thousands of youths (Amsterdam, Rotterdam, 's-Gravenhage) and a few with a handful or none
#: (the Wadden islands, Rozendaal, Renswoude). GI *i* and provider *i* serve region *i* mod 12.
GEMEENTEN: tuple[tuple[str, int, float], ...] = (
    ("GM0363", 0, 160.0), ("GM0362", 0, 19.0), ("GM0384", 0, 6.0), ("GM0437", 0, 3.0),
    ("GM0599", 1, 120.0), ("GM0505", 1, 24.0), ("GM0597", 1, 9.0), ("GM0613", 1, 6.0),
    ("GM0344", 2, 75.0), ("GM0345", 2, 15.0), ("GM0356", 2, 12.0), ("GM0353", 2, 7.0), ("GM0339", 2, 1.3),
    ("GM0200", 3, 33.0), ("GM0193", 3, 27.0), ("GM0243", 3, 11.0), ("GM0262", 3, 6.0), ("GM0277", 3, 0.3),
    ("GM0772", 4, 40.0), ("GM0794", 4, 19.0), ("GM0858", 4, 6.0), ("GM0820", 4, 4.5),
    ("GM0268", 5, 32.0), ("GM0202", 5, 33.0), ("GM0281", 5, 9.0), ("GM0214", 5, 6.0),
    ("GM0546", 6, 22.0), ("GM0484", 6, 24.0), ("GM0512", 6, 7.0), ("GM0547", 6, 6.0),
    ("GM0153", 7, 29.0), ("GM0164", 7, 16.0), ("GM0173", 7, 6.0), ("GM0183", 7, 5.0),
    ("GM0935", 8, 15.0), ("GM0983", 8, 20.0), ("GM0917", 8, 14.0), ("GM0928", 8, 7.0),
    ("GM0518", 9, 110.0), ("GM0637", 9, 25.0), ("GM0503", 9, 15.0), ("GM0603", 9, 11.0),
    ("GM0014", 10, 38.0), ("GM0080", 10, 25.0), ("GM0114", 10, 19.0), ("GM1900", 10, 18.0), ("GM0106", 10, 13.0),
    ("GM1949", 10, 9.0), ("GM0060", 10, 0.7), ("GM0096", 10, 0.2), ("GM0088", 10, 0.15),
    ("GM0687", 11, 9.0), ("GM0718", 11, 9.0), ("GM0677", 11, 5.0), ("GM0703", 11, 5.0),
)
#: the gemeente codes (index = a youth's ``municipality``) and each one's demo region.
MUNICIPALITIES = np.array([code for code, _, _ in GEMEENTEN])
MUNICIPALITY_REGION = np.array([region for _, region, _ in GEMEENTEN])
#: dissolved gemeenten of the demo mapping's reorganisations: a record of a youth of the successor that
#: started before the reorganisation carries the old code with this probability (as delivered then);
#: the mapping counts it in the successor. (Old code, successor, first day of the successor, probability.)
DISSOLVED: tuple[tuple[str, str, str, float], ...] = (
    ("GM0017", "GM0014", "2019-01-01", 0.08),  # Haren
    ("GM0009", "GM0014", "2019-01-01", 0.04),  # Ten Boer
    ("GM0081", "GM0080", "2018-01-01", 0.12),  # Leeuwarderadeel
)
N_REGIONS = 12

# ---------------------------------------------------------------------------
# Volumes and national proportions imitated (see data/README.md for the sources)
# ---------------------------------------------------------------------------

#: new episodes per calendar year at scale 1, per care type (tuned so that scale 1 gives about
#: 70,000 jeugdhulp, 22,000 JB and 8,000 JR trajectories in 2019-2024).
EPISODES_PER_YEAR = {"jeugdhulp": 6_350.0, "jb": 1_600.0, "jr": 670.0}
#: years simulated before ``first_year`` so that long measures (voogdij) run in at steady state.
WARMUP_YEARS = {"jeugdhulp": 3, "jb": 16, "jr": 3}

#: age at the start of a first episode (years, index = age), relative weights.
AGE_WEIGHTS = {
    "jeugdhulp": (3, 3, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 4, 1.2, 0.8, 0.5, 0.3, 0.2),
    "jb": (6, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 6, 3),
    "jr": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 7, 13, 19, 24, 22, 6, 3, 1.5, 0.5),
}
#: share of boys among youths first seen in this care type (CBS: JR mostly boys).
SHARE_BOYS = {"jeugdhulp": 0.53, "jb": 0.51, "jr": 0.85}

#: how a JB episode begins: vOTS (spoed), OTS, or directly voogdij.
JB_ENTRY = {"vots": 0.38, "ots": 0.58, "voogdij": 0.04}
VOTS_TO_OTS = 0.80          # vOTS followed by an OTS of the same youth (CBS: most)
OTS_MEAN_YEARS = 3.6        # OTS length before the cap at 18 (ends up just under 3 years)
VOOGDIJ_MEAN_YEARS = 10.0   # voogdij length before the cap at 18 (ends up about 5 years)
GEZAG_LOGIT = -1.4          # logit of OTS -> voogdij at age 8 and average severity (about 1 in 5)
TRANSFER_PROBABILITY = 0.04  # an OTS or JR measure moves to another GI (per measure)
#: JR care forms (CBS: about 97% toezicht en begeleiding) and mean length in months.
JR_FORMS = {
    "tb_gedwongen": (0.65, 11.0), "tb_vrijwillig": (0.325, 9.0), "itb_harde_kern": (0.01, 10.0),
    "itb_criem": (0.006, 10.0), "stp": (0.005, 5.0), "gbm": (0.002, 6.0), "jr_overig": (0.002, 6.0),
}
#: jeugdhulp care forms: share at the first start and mean length in months.
JH_FORMS = {"ambulant": (0.76, 8.0), "daghulp": (0.07, 11.0), "pleegzorg": (0.06, 30.0),
            "verblijf": (0.11, 12.0)}
JH_FORM_CHANGE = {"ambulant": 0.05, "daghulp": 0.08, "pleegzorg": 0.06, "verblijf": 0.15}
#: youths who return after an episode ended (logit of the base rate, before case-mix and effects).
RETURN_LOGIT = {"jeugdhulp": -1.2, "jb": -1.6, "jr": -1.3}
RETURN_GAP_MEAN_DAYS = 240.0
#: share of JB episodes with jeugdhulp beside them, and with a JR measure beside them (age 12+).
JB_WITH_JEUGDHULP = 0.30
JB_WITH_JR = 0.20           # of JB episodes of youths aged 12+
JR_WITH_JEUGDHULP = 0.20
UNKNOWN_END = 0.03          # `onbekend` end reasons

#: ROM instruments: share of use, norm mean and SD, lowest and highest raw score (higher = worse).
ROM_INSTRUMENTS = {
    "sdq_total": (0.50, 8.6, 5.7, 0, 40),
    "cbcl_total_t": (0.30, 50.0, 10.0, 24, 100),
    "honosca_total": (0.20, 6.0, 5.0, 0, 52),
}

FORM_INDEX = {f: i for i, f in enumerate(schema.ALL_CARE_FORMS)}
REASON_INDEX = {r: i for i, r in enumerate(schema.ALL_END_REASONS)}
CARE_TYPE_INDEX = {t: i for i, t in enumerate(schema.CARE_TYPES)}
JH, JB, JR = (CARE_TYPE_INDEX[t] for t in ("jeugdhulp", "jb", "jr"))
DAY = 1
YEAR_DAYS = 365.25


def _f(name: str) -> int:
    return FORM_INDEX[name]


def _r(name: str) -> int:
    return REASON_INDEX[name]


# ---------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _choice(rng: np.random.Generator, n: int, probs) -> np.ndarray:
    """``n`` draws of the indices 0..k-1 with probabilities ``probs`` (normalised)."""
    p = np.asarray(probs, dtype=float)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a matrix of (unnormalised) probabilities."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    return (rng.random((len(probs), 1)) > cum).sum(axis=1).clip(0, probs.shape[1] - 1)


def _gamma_days(rng, n, mean_days, shape):
    return rng.gamma(shape, np.asarray(mean_days, dtype=float) / shape, n)


def _day_of(date) -> int:
    return int((pd.Timestamp(date) - pd.Timestamp("1970-01-01")).days)


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------


@dataclass
class _Institutions:
    names: np.ndarray        # all institutions, GIs first
    n_gi: int
    jb_weight: np.ndarray    # per institution (0 for providers)
    jr_weight: np.ndarray
    form_weight: np.ndarray  # (institution, jeugdhulp form), 0 for GIs
    shift: np.ndarray        # case-mix shift
    region: np.ndarray
    effect: np.ndarray       # (institution, care type), logit scale, + = better

    @classmethod
    def build(cls, rng: np.random.Generator) -> "_Institutions":
        names = np.array([g[0] for g in GIS] + [p[0] for p in PROVIDERS], dtype=object)
        n_gi, n = len(GIS), len(GIS) + len(PROVIDERS)
        jb = np.r_[[g[1] for g in GIS], np.zeros(len(PROVIDERS))]
        jr = np.r_[[g[2] for g in GIS], np.zeros(len(PROVIDERS))]
        forms = np.zeros((n, 4))
        forms[n_gi:] = [np.multiply(size, PROVIDER_PROFILES[profile]) for _, size, profile in PROVIDERS]
        shift = np.array([CASEMIX_SHIFT.get(name, 0.0) for name in names])
        region = np.r_[np.arange(n_gi), np.arange(len(PROVIDERS))] % N_REGIONS
        effect = rng.normal(0.0, EFFECT_SD, (n, 3))
        for (name, care_type), value in NOTABLE_EFFECTS.items():
            effect[list(names).index(name), CARE_TYPE_INDEX[care_type]] = value
        effect[:n_gi, JH] = 0.0
        effect[n_gi:, [JB, JR]] = 0.0
        return cls(names, n_gi, jb, jr, forms, shift, region, effect)

    def draw(self, rng, care_type: int, jh_form: np.ndarray | None = None, n: int = 0) -> np.ndarray:
        """Institutions by volume: a GI for jb/jr, a provider offering ``jh_form`` for jeugdhulp."""
        if care_type == JB:
            return _choice(rng, n, self.jb_weight)
        if care_type == JR:
            return _choice(rng, n, self.jr_weight)
        out = np.zeros(len(jh_form), dtype="int64")
        for form in np.unique(jh_form):
            m = jh_form == form
            out[m] = _choice(rng, m.sum(), self.form_weight[:, form])
        return out

    def truth(self) -> pd.DataFrame:
        """The true effects as a tidy frame: institution, care_type, effect, casemix_shift."""
        rows = []
        for i, name in enumerate(self.names):
            types = ("jb", "jr") if i < self.n_gi else ("jeugdhulp",)
            rows += [(name, t, float(self.effect[i, CARE_TYPE_INDEX[t]]), float(self.shift[i])) for t in types]
        out = pd.DataFrame(rows, columns=["institution", "care_type", "effect", "casemix_shift"])
        return out.astype({"institution": "string", "care_type": "string"})


class _Youths:
    """Growing arrays of youth attributes, indexed by youth number."""

    def __init__(self):
        self.birth = np.zeros(0, dtype="int64")   # day number of birth
        self.sex = np.zeros(0, dtype="int8")
        self.municipality = np.zeros(0, dtype="int16")
        self.z = np.zeros(0)                      # latent severity

    def add(self, birth, sex, municipality, z) -> np.ndarray:
        first = len(self.birth)
        self.birth = np.r_[self.birth, birth]
        self.sex = np.r_[self.sex, sex].astype("int8")
        self.municipality = np.r_[self.municipality, municipality].astype("int16")
        self.z = np.r_[self.z, z]
        return np.arange(first, len(self.birth))

    def birthday(self, youth: np.ndarray, age: int) -> np.ndarray:
        """Day number of the ``age``-th birthday (day of year kept; 29 Feb moves by a day)."""
        b = self.birth[youth].astype("datetime64[D]")
        year = b.astype("datetime64[Y]")
        doy = (b - year.astype("datetime64[D]")).astype("int64")
        return (year + age).astype("datetime64[D]").astype("int64") + np.minimum(doy, 364)


@dataclass
class _Requests:
    """Episodes to simulate: who, which care type, from when, where (-1: draw), which form (-1: draw)."""

    youth: np.ndarray
    care_type: np.ndarray
    start: np.ndarray
    inst: np.ndarray
    form: np.ndarray

    @classmethod
    def concat(cls, parts: list["_Requests"]) -> "_Requests":
        parts = [p for p in parts if len(p.youth)]
        if not parts:
            e = np.zeros(0, dtype="int64")
            return cls(e, e, e, e, e)
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("youth", "care_type", "start", "inst", "form")))

    def __len__(self) -> int:
        return len(self.youth)


class _Generator:
    def __init__(self, seed: int, scale: float, first_year: int, last_year: int):
        self.rng = np.random.default_rng(seed)
        #: the gemeente stream: where a youth lives within its region, and old codes in old records.
        #: Apart from it the draws are those of the demo before it had gemeenten of realistic sizes,
        #: so a seed gives the same trajectories as then.
        self.place_rng = np.random.default_rng([seed, 1])
        self.scale = scale
        self.first_day = _day_of(f"{first_year}-01-01")
        self.ref = _day_of(f"{last_year}-12-31")
        self.first_year, self.last_year = first_year, last_year
        self.inst = _Institutions.build(self.rng)
        self.youths = _Youths()
        self.rows: list[dict[str, np.ndarray]] = []
        self.n_episodes = 0

    # -- first episodes -----------------------------------------------------------------------

    def gemeente_in(self, region: np.ndarray) -> np.ndarray:
        """A gemeente (index into :data:`MUNICIPALITIES`) for each youth of ``region``, by weight.

        The uniform of each draw takes its first two bits from the main stream (the demo drew one of
        four gemeenten per region from it before) and the rest from :attr:`place_rng`, so the main
        stream, and with it every trajectory of a seed, is what it was."""
        quarter = self.rng.integers(0, 4, len(region))
        uniform = (quarter + self.place_rng.random(len(region))) / 4.0
        weight = np.array([w for _, _, w in GEMEENTEN])
        out = np.zeros(len(region), dtype="int64")
        for r in np.unique(region):
            members = np.flatnonzero(MUNICIPALITY_REGION == r)
            at = region == r
            cum = np.cumsum(weight[members] / weight[members].sum())
            out[at] = members[np.searchsorted(cum, uniform[at], side="right").clip(0, len(members) - 1)]
        return out

    def first_requests(self) -> _Requests:
        rng, parts = self.rng, []
        for name, care_type in CARE_TYPE_INDEX.items():
            years = np.arange(self.first_year - WARMUP_YEARS[name], self.last_year + 1)
            n = int(round(EPISODES_PER_YEAR[name] * self.scale * len(years)))
            start = rng.integers(_day_of(f"{years[0]}-01-01"), self.ref + 1, n)
            form = np.full(n, -1)
            if care_type == JH:
                form = np.array([_f(f) for f in JH_FORMS])[_choice(rng, n, [p for p, _ in JH_FORMS.values()])]
                inst = self.inst.draw(rng, JH, form - _f("ambulant"))
                z = rng.normal(self.inst.shift[inst], 1.0)
                z += np.select([form == _f("verblijf"), form == _f("pleegzorg"), form == _f("daghulp")],
                               [0.5, 0.3, 0.2], 0.0)
            else:
                inst = self.inst.draw(rng, care_type, n=n)
                z = rng.normal(self.inst.shift[inst] + 0.3, 1.0)
            age = _choice(rng, n, AGE_WEIGHTS[name]) + rng.random(n)
            if care_type == JB:
                age = np.minimum(age, 17.6)
            birth = np.maximum(start - np.round(age * YEAR_DAYS).astype("int64"), _day_of("1990-01-01"))
            sex = np.where(rng.random(n) < SHARE_BOYS[name], 0, 1)
            sex[rng.random(n) < 0.003] = 2
            own_region = rng.random(n) < 0.85
            region = np.where(own_region, self.inst.region[inst], rng.integers(0, N_REGIONS, n))
            municipality = self.gemeente_in(region)
            youth = self.youths.add(birth, sex, municipality, z)
            parts.append(_Requests(youth, np.full(n, care_type), start, inst, form))
        return _Requests.concat(parts)

    # -- one segment of a measure ------------------------------------------------------------

    def _segment(self, youth, care_type, form, start, inst):
        """Planned end, end reason, next form (-1: none) and gap to it, for measures starting now."""
        rng, n = self.rng, len(youth)
        z = self.youths.z[youth]
        end = np.zeros(n, dtype="int64")
        reason = np.full(n, _r("volgens_plan"))
        nxt = np.full(n, -1)
        gap = np.ones(n, dtype="int64")
        eighteen = self.youths.birthday(youth, 18)

        # --- jb
        vots, ots, voogdij = form == _f("vots"), form == _f("ots"), form == _f("voogdij")
        m = vots
        end[m] = start[m] + rng.integers(10, 91, m.sum())
        to_ots = m & (rng.random(n) < VOTS_TO_OTS)
        nxt[to_ots] = _f("ots")
        gap[to_ots] = np.where(rng.random(to_ots.sum()) < 0.2, 0, 1)
        stop = m & ~to_ots
        reason[stop] = np.array([_r(c) for c in ("tussentijdse_opheffing", "niet_verlengd", "volgens_plan")])[
            _choice(rng, stop.sum(), [0.5, 0.35, 0.15])]
        m = ots
        end[m] = start[m] + np.round(_gamma_days(rng, m.sum(), OTS_MEAN_YEARS * YEAR_DAYS, 2.0)).astype("int64") + 30
        # gezagsbeeindiging (OTS -> voogdij) is likelier with heavy problems
        age = (start - self.youths.birth[youth]) / YEAR_DAYS
        gb = m & (rng.random(n) < _sigmoid(GEZAG_LOGIT + 0.45 * z + 0.03 * (age - 8.0)))
        end[gb] = start[gb] + ((end[gb] - start[gb]) * 0.7).astype("int64")
        nxt[gb] = _f("voogdij")
        reason[gb] = _r("gezagsbeeindiging")
        plain = m & ~gb
        reason[plain] = np.array([_r(c) for c in ("volgens_plan", "tussentijdse_opheffing", "niet_verlengd",
                                                  "overleden")])[_choice(rng, plain.sum(), [0.5, 0.22, 0.275, 0.005])]
        m = voogdij
        end[m] = start[m] + np.round(_gamma_days(rng, m.sum(), VOOGDIJ_MEAN_YEARS * YEAR_DAYS, 2.0)).astype("int64") + 60
        reason[m] = np.array([_r(c) for c in ("naar_pleegouder", "herstel_gezag", "naar_burgervoogd", "overleden")])[
            _choice(rng, m.sum(), [0.45, 0.3, 0.22, 0.03])]
        jb = vots | ots | voogdij
        adult = jb & (eighteen <= end)
        end[adult] = np.maximum(eighteen[adult], start[adult])
        reason[adult] = _r("meerderjarig")
        nxt[adult] = -1

        # --- jr
        jr = care_type == JR
        months = np.array([JR_FORMS.get(f, (0, 0))[1] for f in schema.ALL_CARE_FORMS])
        end[jr] = start[jr] + np.round(_gamma_days(rng, jr.sum(), months[form[jr]] * 30.4, 2.5)).astype("int64") + 14
        adult_at_end = self.youths.birthday(youth, 18) <= end
        p_jr = np.stack([np.full(n, 0.66), np.full(n, 0.10), np.where(adult_at_end, 0.35, 0.01),
                         np.full(n, 0.10) * np.exp(0.3 * z), np.full(n, 0.06), np.full(n, 0.002)], axis=1)
        codes = np.array([_r(c) for c in ("volgens_plan", "tussentijdse_opheffing", "volwassenreclassering",
                                          "terugmelding", "besluit_rechter", "overleden")])
        reason[jr] = codes[_choice_rows(rng, p_jr[jr])]

        # --- jeugdhulp
        jh = care_type == JH
        months = np.array([JH_FORMS.get(f, (0, 0))[1] for f in schema.ALL_CARE_FORMS])
        end[jh] = start[jh] + np.round(_gamma_days(rng, jh.sum(), months[form[jh]] * 30.4, 1.5)).astype("int64") + 7
        change_p = np.array([JH_FORM_CHANGE.get(f, 0.0) for f in schema.ALL_CARE_FORMS])
        change = jh & (rng.random(n) < change_p[form])
        heavier = np.array([_f(f) for f in ("verblijf", "daghulp", "pleegzorg")])
        to_form = np.where(form == _f("ambulant"), heavier[_choice(rng, n, [0.6, 0.25, 0.15])],
                           np.where(form == _f("pleegzorg"), _f("verblijf"), _f("ambulant")))
        nxt[change] = to_form[change]
        reason[change] = np.where(rng.random(change.sum()) < 0.8, _r("volgens_plan"), _r("voortijdig_overeenstemming"))
        # most jeugdhulp stops at 18 (volgens plan); some continues as verlengde jeugdhulp up to 23
        cap = np.where(rng.random(n) < 0.85, eighteen, self.youths.birthday(youth, 23))
        capped = jh & (cap <= end) & (cap > start)
        end[capped] = cap[capped]
        nxt[capped] = -1
        reason[capped] = _r("volgens_plan")
        reason[jh & ~change & ~capped] = -2  # decided later from case-mix and institution effect
        return end, reason, nxt, gap

    # -- chains of measures ---------------------------------------------------------------------

    def run(self, req: _Requests) -> dict[str, np.ndarray]:
        """Simulate the episodes in ``req`` step by step; returns their rows (also stored)."""
        rng, n = self.rng, len(req)
        episode = self.n_episodes + np.arange(n)
        self.n_episodes += n
        youth, care_type, start = req.youth, req.care_type, req.start.copy()
        age = (start - self.youths.birth[youth]) / YEAR_DAYS
        z = self.youths.z[youth]
        form = req.form.copy()
        draw = form < 0
        jb_entry = np.array([_f(f) for f in JB_ENTRY])[_choice(rng, n, list(JB_ENTRY.values()))]
        form[draw & (care_type == JB)] = jb_entry[draw & (care_type == JB)]
        jr_form = np.array([_f(f) for f in JR_FORMS])[_choice(rng, n, [p for p, _ in JR_FORMS.values()])]
        form[draw & (care_type == JR)] = jr_form[draw & (care_type == JR)]
        jh_p = np.array([p for p, _ in JH_FORMS.values()])[None, :] * np.exp(
            np.outer(np.clip(z, -2, 3), [0.0, 0.3, 0.4, 0.7]))
        jh_form = _f("ambulant") + _choice_rows(rng, jh_p)
        form[draw & (care_type == JH)] = jh_form[draw & (care_type == JH)]
        inst = req.inst.copy()
        for ct in (JH, JB, JR):
            m = (inst < 0) & (care_type == ct)
            if m.any():
                inst[m] = self.inst.draw(rng, ct, form[m] - _f("ambulant"), n=m.sum())

        rows = []
        active = start <= self.ref
        new_segment = np.ones(n, dtype=bool)
        seg_end = np.zeros(n, dtype="int64")
        seg_reason = np.zeros(n, dtype="int64")
        seg_next = np.full(n, -1)
        seg_gap = np.ones(n, dtype="int64")
        for _step in range(12):
            idx = np.flatnonzero(active)
            if not len(idx):
                break
            fresh = idx[new_segment[idx]]
            e, r, nx, g = self._segment(youth[fresh], care_type[fresh], form[fresh], start[fresh], inst[fresh])
            seg_end[fresh], seg_reason[fresh], seg_next[fresh], seg_gap[fresh] = e, r, nx, g
            length = seg_end[idx] - start[idx]
            movable = (form[idx] == _f("ots")) | (care_type[idx] == JR)  # voogdij and vOTS stay put
            transfer = movable & (length > 90) & (rng.random(len(idx)) < TRANSFER_PROBABILITY)
            cut = start[idx] + np.round(length * rng.uniform(0.2, 0.8, len(idx))).astype("int64")
            row_end = np.where(transfer, cut, seg_end[idx])
            rows.append({
                "episode": episode[idx], "youth": youth[idx], "care_type": care_type[idx], "form": form[idx],
                "inst": inst[idx], "start": start[idx].copy(), "end": row_end,
                "reason": np.where(transfer, _r("volgens_plan"), seg_reason[idx]),
                "continues": transfer | (seg_next[idx] >= 0),
            })
            # next step: transfers continue the same measure elsewhere, others move to the next form
            t_idx, go_idx = idx[transfer], idx[~transfer & (seg_next[idx] >= 0)]
            other = self.inst.draw(rng, JB, n=len(t_idx))
            other_jr = self.inst.draw(rng, JR, n=len(t_idx))
            other = np.where(care_type[t_idx] == JR, other_jr, other)
            same = other == inst[t_idx]
            other[same] = (other[same] + 1) % self.inst.n_gi
            inst[t_idx] = other
            start[t_idx] = cut[transfer] + 1
            new_segment[t_idx] = False
            start[go_idx] = seg_end[go_idx] + seg_gap[go_idx]
            form[go_idx] = seg_next[go_idx]
            new_segment[go_idx] = True
            jh_go = go_idx[care_type[go_idx] == JH]
            stay = self.inst.form_weight[inst[jh_go], form[jh_go] - _f("ambulant")] > 0
            stay &= rng.random(len(jh_go)) < 0.6
            moved = jh_go[~stay]
            inst[moved] = self.inst.draw(rng, JH, form[moved] - _f("ambulant"))
            active[:] = False
            active[t_idx] = True
            active[go_idx] = True
            active &= start <= self.ref
        out = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]} if rows else {}
        if out:
            self.rows.append(out)
        return out

    # -- follow-up: returns and care beside care ---------------------------------------------

    def follow_up(self, rows: dict[str, np.ndarray]) -> _Requests:
        """New episodes spawned by the episodes in ``rows``: returns, jeugdhulp beside JB/JR, JR beside JB."""
        rng = self.rng
        if not rows:
            return _Requests.concat([])
        # the last row of every episode (rows are appended in step order)
        order = np.lexsort((rows["start"], rows["episode"]))
        last = order[np.r_[rows["episode"][order][1:] != rows["episode"][order][:-1], True]]
        first = order[np.r_[True, rows["episode"][order][1:] != rows["episode"][order][:-1]]]
        youth, ct, inst, end = (rows[k][last] for k in ("youth", "care_type", "inst", "end"))
        n = len(last)
        burden = np.clip(self.youths.z[youth], -2, 3) * 0.5
        effect = self.inst.effect[inst, ct]
        base = np.array([RETURN_LOGIT["jeugdhulp"], RETURN_LOGIT["jb"], RETURN_LOGIT["jr"]])[ct]
        again = (rng.random(n) < _sigmoid(base + burden - effect)) & (end < self.ref)
        start = end + 2 + np.round(_gamma_days(rng, n, RETURN_GAP_MEAN_DAYS, 1.2)).astype("int64")
        age = (start - self.youths.birth[youth]) / YEAR_DAYS
        new_ct = ct.copy()
        new_ct[(ct == JB) & (age >= 14) & (rng.random(n) < 0.15)] = JR  # from protection into reclassering
        ok = np.where(new_ct == JB, age < 17.5, np.where(new_ct == JR, (age >= 12) & (age < 22), age < 21))
        keep = again & ok & (start <= self.ref)
        same_place = np.where(new_ct == ct, rng.random(n) < np.where(ct == JH, 0.5, 0.8), False)
        parts = [_Requests(youth[keep], new_ct[keep], start[keep],
                           np.where(same_place, inst, -1)[keep], np.full(keep.sum(), -1))]

        # care beside care, starting during the first measure of the episode
        f_youth, f_ct, f_start, f_end, f_inst = (rows[k][first] for k in ("youth", "care_type", "start", "end", "inst"))
        e_end = end  # episode end (aligned: first and last are both sorted by episode)
        length = np.maximum(e_end - f_start, 1)
        during = f_start + np.round(rng.uniform(0.0, 0.6, n) * np.minimum(length, 400)).astype("int64")
        age = (during - self.youths.birth[f_youth]) / YEAR_DAYS
        jh = ((f_ct == JB) & (rng.random(n) < JB_WITH_JEUGDHULP)) | ((f_ct == JR) & (rng.random(n) < JR_WITH_JEUGDHULP))
        jh &= (age < 18) & (during <= self.ref)
        parts.append(_Requests(f_youth[jh], np.full(jh.sum(), JH), during[jh], np.full(jh.sum(), -1),
                               np.full(jh.sum(), -1)))
        jr = (f_ct == JB) & (age >= 12) & (age < 18) & (rng.random(n) < JB_WITH_JR) & (during <= self.ref)
        parts.append(_Requests(f_youth[jr], np.full(jr.sum(), JR), during[jr],
                               np.where(rng.random(jr.sum()) < 0.85, f_inst[jr], -1), np.full(jr.sum(), -1)))
        return _Requests.concat(parts)


def make_demo(seed: int = 0, scale: float = 1.0, first_year: int = 2019, last_year: int = 2024,
              max_rounds: int = 5) -> Dataset:
    """A reproducible synthetic population of Dutch youth-care trajectories.

    Parameters
    ----------
    seed : int
        Seed of the NumPy random generator; the same seed gives identical data.
    scale : float
        Volume multiplier: 1.0 gives about 100,000 trajectories over the years, 10 about a million.
    first_year, last_year : int
        Trajectories start in these years (some run in from before ``first_year``); the reference
        date is 31 December of ``last_year``.
    max_rounds : int
        How many times youths may come back after an episode ended (rounds of follow-up episodes).

    Returns
    -------
    Dataset
        ``trajectories``, ``goals`` and ``experience`` with exactly the contract's columns and dtypes
        (as :func:`outcome_analysis.io.load` returns them), ``reference_date`` = 31 December of
        ``last_year``, ``sources`` empty, and ``meta`` with ``seed``, ``scale``, ``first_year``,
        ``last_year`` and ``true_effects`` (DataFrame: ``institution``, ``care_type``, ``effect`` on the
        logit scale, positive = better outcomes, and ``casemix_shift``, the institution's shift of
        latent case-mix severity in SD units).

    Notes
    -----
    No real persons or institutions: names, ids and numbers are drawn. The proportions imitate
    national CBS figures (see ``data/README.md``). Outcomes depend on the recorded case-mix
    (``complexity``, ``perspective``), on the baseline score (ROM, threat, risk) and on the true
    effect of the institution; missing items are missing at random within care type, except that
    youths who drop out rarely have a ROM end score.

    Examples
    --------
    >>> data = make_demo(seed=1, scale=0.01)
    >>> sorted(data.trajectories["care_type"].unique().tolist())
    ['jb', 'jeugdhulp', 'jr']
    >>> data.reference_date
    Timestamp('2024-12-31 00:00:00')
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    if last_year < first_year:
        raise ValueError(f"last_year ({last_year}) is before first_year ({first_year})")
    gen = _Generator(int(seed), float(scale), int(first_year), int(last_year))
    requests = gen.first_requests()
    for _round in range(max_rounds + 1):
        if not len(requests):
            break
        requests = gen.follow_up(gen.run(requests))
    rows = {k: np.concatenate([r[k] for r in gen.rows]) for k in gen.rows[0]}
    trajectories, rows = _trajectories(gen, rows)
    goals = _goals(gen, rows, trajectories)
    experience = _experience(gen, rows, trajectories)
    meta = {"seed": int(seed), "scale": float(scale), "first_year": int(first_year), "last_year": int(last_year),
            "true_effects": gen.inst.truth(), "generator": "outcome_analysis.contract.demo.make_demo"}
    return Dataset(trajectories, goals, experience, reference_date=pd.Timestamp(gen.ref, unit="D"), meta=meta)


# ---------------------------------------------------------------------------
# From rows to the contract's tables
# ---------------------------------------------------------------------------


def _dates(days: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[missing] = np.datetime64("NaT")
    return out


def _codes(index: np.ndarray, column: str, table: str = "trajectories") -> pd.Categorical:
    """A categorical with the contract's dtype from code positions (-1 = missing)."""
    return pd.Categorical.from_codes(index.astype("int64"), dtype=schema.columns(table)[column].dtype)


def _boolean(values: np.ndarray, missing: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(values.astype(bool), missing.astype(bool))


def _int16(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int16"), missing.astype(bool))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    return prefix + pd.Series(numbers, dtype="int64").astype("string").str.zfill(width)


def _ordinal(rng, latent_mean: np.ndarray, cuts) -> np.ndarray:
    """Ordered categories 0..k by a logistic latent variable with cut points ``cuts`` (ascending)."""
    latent = latent_mean + rng.logistic(0.0, 1.0, len(latent_mean))
    return np.searchsorted(np.asarray(cuts), latent)


def _trajectories(gen: _Generator, rows: dict[str, np.ndarray]) -> tuple[pd.DataFrame, dict]:
    """Filter to the observation window, draw every contract column, and build the frame."""
    rng, ref = gen.rng, gen.ref
    keep = (rows["start"] <= ref) & (rows["end"] >= gen.first_day)
    rows = {k: v[keep] for k, v in rows.items()}
    order = np.lexsort((rows["youth"], rows["start"]))
    rows = {k: v[order] for k, v in rows.items()}
    n = len(rows["start"])
    youth, ct, form, inst, start = (rows[k] for k in ("youth", "care_type", "form", "inst", "start"))
    ended = rows["end"] <= ref
    final = ended & ~rows["continues"]            # the end of an episode: outcomes are measured here
    is_jh, is_jb, is_jr = ct == JH, ct == JB, ct == JR
    age = (start - gen.youths.birth[youth]) / YEAR_DAYS
    z = gen.youths.z[youth] + rng.normal(0.0, 0.5, n)

    # case-mix: complexity and perspective, recorded for most trajectories
    complexity = np.searchsorted([-0.2, 1.0], z / np.sqrt(1.25))
    out_form = np.isin(form, [_f("pleegzorg"), _f("verblijf"), _f("voogdij")])
    unclear = rng.random(n) < _sigmoid(-2.6 + 0.8 * z)
    p_persp = np.stack([
        np.where(out_form, 0.2, 0.85),                                       # thuis
        np.where(out_form, 0.75, 0.08),                                      # elders
        np.where(age >= 15.5, np.where(out_form, 0.4, 0.15), 0.005),         # zelfstandig
    ], axis=1)
    perspective = np.where(unclear, 3, _choice_rows(rng, p_persp))
    burden = 0.6 * complexity + 0.7 * (perspective == 3)
    eta = gen.inst.effect[inst, ct] - burden       # linear predictor of every good outcome

    # jeugdhulp end reasons: uitval depends on case-mix and institution
    undecided = rows["reason"] == -2
    reason = rows["reason"].copy()
    uitval = rng.random(n) < _sigmoid(-2.0 + 0.8 * burden - gen.inst.effect[inst, ct])
    regular = np.array([_r(c) for c in ("volgens_plan", "voortijdig_overeenstemming", "externe_omstandigheden")])[
        _choice(rng, n, [0.74, 0.15, 0.11])]
    dropout = np.where(rng.random(n) < 0.75, _r("voortijdig_client"), _r("voortijdig_aanbieder"))
    reason[undecided] = np.where(uitval, dropout, regular)[undecided]
    unknown = ended & ~rows["continues"] & (rng.random(n) < UNKNOWN_END)
    reason[unknown] = _r("onbekend")
    reason[~ended] = -1
    is_uitval = np.isin(reason, [_r("voortijdig_client"), _r("voortijdig_aanbieder")])
    eta = eta - 0.5 * is_uitval

    def item(p_filled, where):
        return where & (rng.random(n) < p_filled)

    cols: dict[str, object] = {}
    n_digits = max(7, len(str(n)))
    cols["trajectory_id"] = _ids("T", np.arange(1, n + 1), n_digits)
    client_number = rng.permutation(len(gen.youths.birth)) + 1
    cols["client_id"] = _ids("C", client_number[youth], max(7, len(str(len(client_number)))))
    cols["institution"] = pd.Categorical.from_codes(inst, categories=list(gen.inst.names)).astype("string")
    muni_missing = rng.random(n) < 0.03
    code = MUNICIPALITIES[gen.youths.municipality[youth]].astype(object)
    for old_code, successor, first_day, p in DISSOLVED:
        before = (code == successor) & (start < _day_of(first_day)) & (gen.place_rng.random(n) < p)
        code[before] = old_code
    cols["municipality"] = pd.Series(code, dtype="string").mask(muni_missing)
    cols["care_type"] = _codes(ct, "care_type")
    cols["care_form"] = _codes(form, "care_form")
    cols["start_date"] = _dates(start, np.zeros(n, dtype=bool))
    cols["end_date"] = _dates(rows["end"], ~ended)
    cols["end_reason"] = _codes(reason, "end_reason")
    cols["birth_year"] = _int16(gen.youths.birth[youth].astype("datetime64[D]").astype("datetime64[Y]").astype("int64")
                                + 1970, np.zeros(n, dtype=bool))
    sex = gen.youths.sex[youth].astype("int64")
    sex[rng.random(n) < 0.005] = -1
    cols["sex"] = _codes(sex, "sex")
    cols["complexity"] = _codes(np.where(rng.random(n) < 0.88, complexity, -1), "complexity")
    cols["perspective"] = _codes(np.where(rng.random(n) < 0.86, perspective, -1), "perspective")
    p_home = np.select([np.isin(form, [_f("pleegzorg"), _f("verblijf")]), form == _f("voogdij"),
                        form == _f("vots"), form == _f("ots"), form == _f("daghulp")],
                       [1.0, 0.92, 0.45, 0.3, 0.03], 0.03)
    cols["out_of_home"] = _boolean(rng.random(n) < p_home, rng.random(n) < 0.05)

    wait = np.round(_gamma_days(rng, n, 35.0, 1.3)).astype("int64")
    long_wait = rng.random(n) < 0.1
    wait[long_wait] += rng.integers(60, 240, long_wait.sum())
    cols["registration_date"] = _dates(start - wait, ~item(0.85, is_jh))
    contact = start + np.round(_gamma_days(rng, n, 9.0, 1.5)).astype("int64")
    cols["first_contact_date"] = _dates(contact, ~item(0.8, ~is_jh) | (contact > ref))

    goals_realised = 3 - _ordinal(rng, 0.55 + eta, [-2.0, -0.5, 1.1])   # 0 geheel ... 3 niet
    p_goals = np.where(is_jh, 0.6, 0.45)
    cols["goals_realised"] = _codes(np.where(item(p_goals, final), goals_realised, -1), "goals_realised")
    without = rng.random(n) < _sigmoid(0.55 + eta)
    cols["without_help"] = _boolean(without, ~item(0.6, final & is_jh))
    accepted = 2 - _ordinal(rng, 1.0 + eta, [-2.0, -0.4])                 # 0 ja, 1 gedeeltelijk, 2 nee
    cols["help_accepted"] = _codes(np.where(item(0.6, final & is_jb), accepted, -1), "help_accepted")

    # threat of development (jb) 1..5: decrease more likely from a high start (law of initial value)
    threat_start = 1 + _choice_rows(rng, np.stack([np.full(n, 0.02), np.full(n, 0.12), np.full(n, 0.36),
                                                   0.36 * np.exp(0.4 * burden), 0.14 * np.exp(0.8 * burden)], 1))
    improved = (rng.random(n) < _sigmoid(0.9 + 0.6 * (threat_start - 3.5) + eta)) & (threat_start > 1)
    step = np.where(rng.random(n) < 0.3, 2, 1)
    worse = rng.random(n) < 0.25
    threat_end = np.where(improved, threat_start - step, threat_start + worse).clip(1, 5)
    threat_filled = item(0.65, is_jb)
    cols["threat_start"] = _int16(threat_start, ~threat_filled)
    cols["threat_end"] = _int16(threat_end, ~(threat_filled & final & (rng.random(n) < 0.85)))

    # LIJ risk (jr) 0 laag, 1 matig, 2 hoog
    risk_start = _choice_rows(rng, np.stack([0.3 * np.exp(-0.5 * burden), np.full(n, 0.45),
                                             0.25 * np.exp(0.5 * burden)], 1))
    improved = (rng.random(n) < _sigmoid(0.2 + 0.8 * (risk_start - 1) + eta)) & (risk_start > 0)
    risk_end = np.where(improved, risk_start - np.where((risk_start == 2) & (rng.random(n) < 0.2), 2, 1),
                        risk_start + (rng.random(n) < 0.2)).clip(0, 2)
    risk_filled = item(0.65, is_jr)
    cols["risk_start"] = _codes(np.where(risk_filled, risk_start, -1), "risk_start")
    cols["risk_end"] = _codes(np.where(risk_filled & final & (rng.random(n) < 0.85), risk_end, -1), "risk_end")

    # ROM (jeugdhulp): baseline in norm-SD units; larger baselines improve more (law of initial value)
    names = list(ROM_INSTRUMENTS)
    params = np.array([v[1:] for v in ROM_INSTRUMENTS.values()])
    instrument = _choice(rng, n, [v[0] for v in ROM_INSTRUMENTS.values()])
    instrument[(form == _f("verblijf")) & (rng.random(n) < 0.4)] = names.index("honosca_total")
    u_start = rng.normal(1.2 + 0.35 * burden, 0.9)
    gain = 0.7 + 0.45 * (u_start - 1.4) + 0.5 * (eta + 0.6) + rng.normal(0.0, 0.7, n)
    u_end = u_start - gain
    mean, sd, low, high = (params[instrument, i] for i in range(4))
    rom_start = np.clip(np.round(mean + u_start * sd), low, high)
    rom_end = np.clip(np.round(mean + u_end * sd), low, high)
    has_rom = item(0.5, is_jh)
    has_end = has_rom & final & (rng.random(n) < np.where(is_uitval, 0.25, 0.78))
    cols["rom_instrument"] = pd.Series(np.array(names, dtype=object)[instrument], dtype="string").mask(~has_rom)
    cols["rom_start"] = np.where(has_rom, rom_start, np.nan)
    cols["rom_end"] = np.where(has_end, rom_end, np.nan)

    terug = reason == _r("terugmelding")
    recid = rng.random(n) < _sigmoid(-0.85 + 0.5 * (risk_start - 1) + 0.7 * terug - eta - 0.55)
    cols["recidivism"] = _boolean(recid, ~item(0.85, is_jr & ended))
    cols["working_alliance"] = np.where(item(0.4, final), np.clip(np.round(
        3.9 + 0.3 * (eta + 0.6) + rng.normal(0.0, 0.55, n), 1), 1.0, 5.0), np.nan)
    cols["chain_cooperation"] = np.where(item(np.where(is_jh, 0.2, 0.4), final), np.clip(np.round(
        3.4 + 0.2 * (eta + 0.6) + rng.normal(0.0, 0.7, n), 1), 1.0, 5.0), np.nan)

    # issues: mostly empty; waiting lists where the wait was long
    codes = np.array(schema.ISSUE_CODES, dtype=object)
    first = _choice(rng, n, [0.3, 0.2, 0.15, 0.05, 0.2, 0.1])
    first[is_jh & long_wait & (rng.random(n) < 0.6)] = 0
    second = (first + 1 + rng.integers(0, len(codes) - 1, n)) % len(codes)
    lo, hi = np.minimum(first, second), np.maximum(first, second)
    two = rng.random(n) < 0.25
    text = np.where(two, codes[lo] + ";" + codes[hi], codes[first])
    has_issue = rng.random(n) < np.where(is_jh & long_wait, 0.35, 0.1)
    cols["issues"] = pd.Series(text, dtype="string").mask(~has_issue)

    frame = pd.DataFrame(cols)
    frame = frame.astype({c.name: c.dtype for c in schema.TRAJECTORY_COLUMNS})
    rows.update(final=final, eta=eta, age_end=(np.where(ended, rows["end"], ref) - gen.youths.birth[youth]) / YEAR_DAYS)
    return frame, rows


def _goals(gen: _Generator, rows: dict, trajectories: pd.DataFrame) -> pd.DataFrame:
    """GAS goals (1-4 per trajectory) for about 30% of ended jeugdhulp and 20% of ended JB/JR."""
    rng = gen.rng
    n = len(rows["start"])
    p = np.where(rows["care_type"] == JH, 0.32, 0.2)
    scored = np.flatnonzero(rows["final"] & (rng.random(n) < p))
    k = 1 + _choice(rng, len(scored), [0.2, 0.35, 0.3, 0.15])
    traj = np.repeat(scored, k)
    goal_no = np.arange(len(traj)) - np.repeat(np.cumsum(k) - k, k) + 1
    person = np.repeat(rng.normal(0.0, 0.6, len(scored)), k)
    latent = 0.5 + rows["eta"][traj] + person + rng.normal(0.0, 0.9, len(traj))
    score = np.searchsorted([-1.9, -0.7, 0.8, 2.0], latent) - 2
    informant = _choice(rng, len(traj), [0.86, 0.04, 0.03, 0.0, 0.07])  # last = empty
    informant[informant == 4] = -1
    goals = pd.DataFrame({
        "trajectory_id": trajectories["trajectory_id"].to_numpy()[traj],
        "goal_id": pd.Series(goal_no).astype("string"),
        "score": score.astype(float),
        "weight": (1 + _choice(rng, len(traj), [0.6, 0.3, 0.1])).astype(float),
        "informant": _codes(informant, "informant", "goals"),
    })
    return goals.astype({c.name: c.dtype for c in schema.GOAL_COLUMNS})


def _experience(gen: _Generator, rows: dict, trajectories: pd.DataFrame) -> pd.DataFrame:
    """Experience answers for about a third of ended episodes, from youths, parents, professionals."""
    rng = gen.rng
    n = len(rows["start"])
    p = np.select([rows["care_type"] == JH, rows["care_type"] == JB], [0.36, 0.28], 0.3)
    answered = rows["final"] & (rng.random(n) < p)
    age = rows["age_end"]
    youth = answered & (rng.random(n) < np.where(age >= 12, 0.65, 0.04))
    parent = answered & (rng.random(n) < np.where(age >= 18, 0.2, 0.75))
    professional = answered & (rng.random(n) < 0.12)
    nobody = answered & ~youth & ~parent & ~professional
    youth |= nobody & (age >= 12)
    parent |= nobody & (age < 12)
    parts = [(np.flatnonzero(m), code) for code, m in enumerate((youth, parent, professional))]
    traj = np.concatenate([idx for idx, _ in parts])
    informant = np.concatenate([np.full(len(idx), code) for idx, code in parts])
    order = np.lexsort((informant, traj))
    traj, informant = traj[order], informant[order]
    m = len(traj)
    helped = rng.random(m) < _sigmoid(1.9 + rows["eta"][traj] + np.array([-0.2, 0.0, 0.3])[informant])
    score = np.clip(np.round(rng.normal(np.where(helped, 7.6, 5.0), 1.3)), 1, 10)
    experience = pd.DataFrame({
        "trajectory_id": trajectories["trajectory_id"].to_numpy()[traj],
        "informant": _codes(informant, "informant", "experience"),
        "helped": _boolean(helped, rng.random(m) < 0.03),
        "score": np.where(rng.random(m) < 0.1, np.nan, score),
    })
    return experience.astype({c.name: c.dtype for c in schema.EXPERIENCE_COLUMNS})


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def summary(data: Dataset) -> str:
    """A short text summary: counts per care type, institutions, years."""
    t = data.trajectories
    per_type = t.groupby("care_type", observed=True).agg(
        trajectories=("trajectory_id", "size"), youths=("client_id", "nunique"),
        institutions=("institution", "nunique"), running=("end_date", lambda s: int(s.isna().sum())))
    years = t["start_date"].dt.year
    first = data.meta.get("first_year", years.min())
    lines = [
        f"demo population (seed {data.meta.get('seed')}, scale {data.meta.get('scale')}): "
        f"{len(t):,} trajectories of {t['client_id'].nunique():,} youths at {t['institution'].nunique()} institutions",
        f"{(years >= first).sum():,} start in {first}-{years.max()}, {(years < first).sum():,} run in from "
        f"{years.min()}-{first - 1}; reference date {data.reference_date:%Y-%m-%d}",
        f"{len(data.goals):,} goal scores, {len(data.experience):,} experience answers",
        per_type.to_string(),
    ]
    return "\n".join(lines)


def write_demo(data: Dataset, out: str | Path, format: str = "parquet") -> list[Path]:
    """Write ``data`` into ``out`` (created if missing), every file atomically.

    The tables go through :func:`outcome_analysis.io.write` (each file written to a temporary name and
    renamed into place). The true effects go to ``demo_truth.csv`` (institution, care_type, effect,
    casemix_shift, seed, scale), written the same way; it is not a table of the contract, so
    :func:`outcome_analysis.io.load` does not read it. ``settings.yaml`` declares the demo a national
    delivery (``delivery_scope: national``: every institution of the fictional country is in it), so
    that its reports call the pooled figure "landelijk", and marks it as demo data (``demo: true``: every
    report says "Fictieve gegevens (demo)"); ``run_reports.py`` and a report notebook run alone read it
    when no other settings file is given. The demo's gemeente mapping (``data/mappings/demo.csv`` and its
    reorganisations) goes beside the data as ``gemeenten.csv`` and ``gemeenten.reorganisations.csv``,
    the mapping ``run_reports.py --for municipality|region`` reads when no ``--mapping`` is given.
    The demo's verbeteracties (:func:`demo_actions`) go to ``actions.csv``, as a filled-in dialogue
    record (UTF-8 with BOM, ``;``, dates ``dd-mm-jjjj``).

    Returns
    -------
    list of Path
        The files written.
    """
    from outcome_analysis.contract import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = list(io.write(data, out, format))
    truth = data.meta["true_effects"].assign(seed=data.meta["seed"], scale=data.meta["scale"])
    atomic.write_with(out / "demo_truth.csv", lambda tmp: truth.to_csv(tmp, index=False, encoding="utf-8"))
    atomic.write_bytes(out / DELIVERY_SETTINGS_FILE, DEMO_SETTINGS_YAML.encode("utf-8"))
    beside = [out / BESIDE_DATA, out / f"{Path(BESIDE_DATA).stem}{REORGANISATIONS_SUFFIX}.csv"]
    for source, target in zip((DEMO_MAPPING, reorganisations_path(DEMO_MAPPING)), beside):
        atomic.write_bytes(target, source.read_bytes())
    atomic.write_bytes(out / DEMO_ACTIONS_FILE, actions_csv(demo_actions(data)))
    return written + [out / "demo_truth.csv", out / DELIVERY_SETTINGS_FILE, *beside, out / DEMO_ACTIONS_FILE]


# ---------------------------------------------------------------------------
# The demo's verbeteracties (the contract's ``actions`` table)
# ---------------------------------------------------------------------------

#: the file the demo's actions go to, beside the tables.
DEMO_ACTIONS_FILE = "actions.csv"

#: the demo's actions: institution, indicator, (years before the reference year, month, day) of
#: ``agreed_on``, description, owner, status, months from ``agreed_on`` to ``review_on`` (None: empty).
#: Fixed, not drawn: the demo's random streams are untouched. One description holds markup, which the
#: reports must show as text.
DEMO_ACTIONS: tuple[tuple, ...] = (
    ("Jeugdzorg De Wissel", "jh_uitval", (1, 3, 14),
     "Bij elke aanmelding een kennismakingsgesprek met ouders en jongere vóór de start van de hulp, "
     "zodat minder jongeren voortijdig afhaken.", "Teamleider ambulant", "lopend", 6),
    ("Jeugdzorg De Wissel", "jh_tevredenheid", (1, 6, 20),
     "<b>Ervaringsvragenlijst</b> bij de laatste afspraak samen invullen <script>alert('demo')</script>",
     "Kwaliteitsmedewerker", "afgerond", None),
    ("Jeugdzorg De Wissel", "jh_zonder_hulp_verder", (0, 2, 5),
     "Drie maanden na de afsluiting een nazorggesprek plannen.", None, "gepland", 9),
    ("Stichting Jeugdhulp Delta", "jh_uitval", (1, 5, 2),
     "Wachttijd tussen intake en eerste afspraak terugbrengen tot twee weken.", "Manager zorg", "lopend", 12),
    ("Jeugdbescherming Randstad Midden", "jbjr_herhaald_beroep", (1, 4, 11),
     "Bij elke afsluiting een overdracht aan het lokale team met afspraken over de eerste drie maanden.",
     "Gedragswetenschapper", "lopend", 6),
    ("Jeugdbescherming Randstad Midden", "jbjr_clientervaring", (1, 10, 2),
     "Jeugdigen en ouders krijgen een vaste contactpersoon bij afwezigheid van hun jeugdbeschermer.",
     None, None, None),
)


def demo_actions(data: Dataset) -> pd.DataFrame:
    """The demo's verbeteracties: :data:`DEMO_ACTIONS` for the institutions of ``data``.

    Actions are agreed in the year before the reference year (one in the reference year itself, too
    recent to judge), for institutions in ``data`` that have trajectories of the indicator's care
    type; an action whose institution or care type is missing from ``data`` is left out.

    Returns
    -------
    DataFrame
        The columns of :data:`outcome_analysis.contract.actions.ACTION_COLUMNS` with the dtypes
        :func:`~outcome_analysis.contract.actions.read_actions` gives them (texts ``string``, dates
        ``datetime64[ns]``), sorted by institution and ``agreed_on``.
    """
    from outcome_analysis.indicators import registry

    from outcome_analysis.contract.actions import ACTION_COLUMNS

    t = data.trajectories
    present = set(zip(t["institution"].astype(str), t["care_type"].astype(str)))
    year = pd.Timestamp(data.reference_date).year
    rows = []
    for institution, indicator, (back, month, day), description, owner, status, review in DEMO_ACTIONS:
        if not any((institution, c) in present for c in registry.get(indicator).care_types):
            continue
        agreed = pd.Timestamp(year - back, month, day)
        rows.append({"institution": institution, "indicator": indicator, "agreed_on": agreed,
                     "description": description, "owner": owner, "status": status,
                     "review_on": agreed + pd.DateOffset(months=review) if review is not None else pd.NaT})
    frame = pd.DataFrame(rows, columns=list(ACTION_COLUMNS))
    for column in ACTION_COLUMNS:
        if column in ("agreed_on", "review_on"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        else:
            frame[column] = frame[column].astype("string")
    return frame.sort_values(["institution", "agreed_on"], kind="stable").reset_index(drop=True)


def actions_csv(actions: pd.DataFrame) -> bytes:
    """``actions`` as a filled-in dialogue record CSV: UTF-8 with BOM, ``;``, dates ``dd-mm-jjjj``."""
    from outcome_analysis.contract.actions import ACTION_COLUMNS

    frame = actions.loc[:, list(ACTION_COLUMNS)].copy()
    for column in ("agreed_on", "review_on"):
        frame[column] = frame[column].dt.strftime("%d-%m-%Y")
    return frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8-sig")


#: the settings the demo delivery carries: it is declared national (docs/design.md, "Landelijk") and demo data.
DEMO_SETTINGS_YAML = """\
# Settings of the demo delivery (outcome_analysis.settings.Settings; see config/settings.example.yaml).
# The demo holds every institution of its fictional country, so it is declared national: its reports call
# the pooled figure "landelijk". A real delivery without this file is compared with "alle instellingen in
# deze levering (N)".
delivery_scope: national
# Every figure of the demo is fictitious: its reports say so on the cover and in the running header.
demo: true
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outcome_analysis.demo",
                                     description="Write the synthetic demo population.")
    parser.add_argument("--out", required=True, type=Path, help="folder to write into (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier; 1.0 is about 100,000 trajectories")
    parser.add_argument("--first-year", type=int, default=2019)
    parser.add_argument("--last-year", type=int, default=2024)
    parser.add_argument("--format", choices=("parquet", "csv", "csv_nl", "xlsx"), default="parquet",
                        help="file format, as outcome_analysis.io.write writes it (default parquet)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    data = make_demo(seed=args.seed, scale=args.scale, first_year=args.first_year, last_year=args.last_year)
    written = write_demo(data, args.out, args.format)
    print(summary(data))
    print(f"wrote {len(written)} file(s) to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
