"""The data contract as data.

Everything the loader validates and the demo generator produces is described
here once: the columns of the three tables, their kinds, the allowed codes, the
mapping of CBS numeric codes to the contract's codes, and which ``end_reason``
fits which ``care_form``.  See ``../shared/docs/data-contract.md`` (copied into
``docs/data-contract.md``) for the prose.

Kinds
-----
``text``    free text, kept as pandas ``string``
``code``    one of a fixed list of codes, kept as an (unordered or ordered) ``category``
``date``    a calendar date, kept as ``datetime64[ns]`` (Dutch ``31-12-2023`` or ISO)
``int``     a whole number, kept as a nullable integer (``Int16``)
``number``  a real number, kept as ``float64`` (NaN when missing)
``bool``    ``ja``/``nee``, ``j``/``n``, ``true``/``false``, ``1``/``0``; kept as ``boolean``
``codelist`` ``;``-separated codes (``issues``), kept as ``string``
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# ---------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------

CARE_TYPES = ("jeugdhulp", "jb", "jr")

#: care forms per care type; jeugdhulp forms are in the order of intensity.
CARE_FORMS = {
    "jeugdhulp": ("ambulant", "daghulp", "pleegzorg", "verblijf"),
    "jb": ("vots", "ots", "voogdij"),
    "jr": ("tb_gedwongen", "tb_vrijwillig", "itb_harde_kern", "itb_criem", "stp", "gbm", "jr_overig"),
}
ALL_CARE_FORMS = tuple(f for forms in CARE_FORMS.values() for f in forms)
CARE_TYPE_OF_FORM = {f: t for t, forms in CARE_FORMS.items() for f in forms}

#: CBS numeric codes of the care forms (jb and jr; jeugdhulp forms have none in the contract).
CBS_CARE_FORM = {
    "12": "vots",
    "11": "ots",
    "21": "voogdij",
    "22": "voogdij",
    "23": "voogdij",
    "41": "tb_gedwongen",
    "42": "tb_vrijwillig",
    "50": "itb_harde_kern",
    "51": "itb_criem",
    "61": "stp",
    "62": "gbm",
    "63": "jr_overig",
}

#: end-reason groups: which ``end_reason`` codes fit which care forms.
END_REASON_GROUP_OF_FORM = {
    **{f: "jeugdhulp" for f in CARE_FORMS["jeugdhulp"]},
    "vots": "jb_ots",
    "ots": "jb_ots",
    "voogdij": "jb_voogdij",
    **{f: "jr" for f in CARE_FORMS["jr"]},
}

#: allowed end reasons per group, with their CBS numeric codes.  ``onbekend`` (CBS 99) fits every group.
END_REASONS = {
    "jeugdhulp": {
        "volgens_plan": "01",
        "voortijdig_overeenstemming": "02",
        "voortijdig_client": "03",
        "voortijdig_aanbieder": "04",
        "externe_omstandigheden": "05",
        "onbekend": "99",
    },
    "jb_ots": {
        "meerderjarig": "01",
        "tussentijdse_opheffing": "02",
        "niet_verlengd": "03",
        "volgens_plan": "04",
        "gezagsbeeindiging": "05",
        "overleden": "06",
        "onbekend": "99",
    },
    "jb_voogdij": {
        "meerderjarig": "11",
        "naar_pleegouder": "12",
        "naar_burgervoogd": "13",
        "herstel_gezag": "14",
        "overleden": "15",
        "onbekend": "99",
    },
    "jr": {
        "volgens_plan": "21",
        "tussentijdse_opheffing": "22",
        "volwassenreclassering": "23",
        "terugmelding": "24",
        "besluit_rechter": "25",
        "overleden": "26",
        "onbekend": "99",
    },
}
ALL_END_REASONS = tuple(dict.fromkeys(code for group in END_REASONS.values() for code in group))

#: CBS numeric end-reason code -> contract code, per end-reason group (numbers overlap between groups).
CBS_END_REASON = {group: {num: code for code, num in codes.items()} for group, codes in END_REASONS.items()}

#: jeugdhulp end reasons that count as *uitval*.
UITVAL_REASONS = ("voortijdig_client", "voortijdig_aanbieder")

SEX = ("m", "v", "x")
COMPLEXITY = ("enkelvoudig", "meervoudig", "complex")
PERSPECTIVE = ("thuis", "elders", "zelfstandig", "onduidelijk")
GOALS_REALISED = ("geheel", "grotendeels", "gedeeltelijk", "niet")
HELP_ACCEPTED = ("ja", "gedeeltelijk", "nee")
RISK_LEVELS = ("laag", "matig", "hoog")
ISSUE_CODES = ("wachtlijst", "geen_passend_aanbod", "ketensamenwerking", "wetgeving", "personeelstekort", "overig")
GOAL_INFORMANTS = ("gezamenlijk", "jeugdige", "ouder", "professional")
EXPERIENCE_INFORMANTS = ("jeugdige", "ouder", "professional")

TRUE_WORDS = frozenset({"ja", "j", "true", "1", "yes", "y", "waar"})
FALSE_WORDS = frozenset({"nee", "n", "false", "0", "no", "onwaar"})

BIRTH_YEAR_MIN = 1990

#: GAS scale bounds (a setting: the Dutch 6-point variant runs -3 ... +2).
GAS_SCALE = (-2, 2)


# ---------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the contract."""

    name: str
    kind: str  # text, code, date, int, number, bool, codelist
    required: bool = False
    codes: tuple[str, ...] = ()
    ordered: bool = False
    low: float | None = None
    high: float | None = None
    meaning: str = ""

    @property
    def dtype(self):
        """The pandas dtype this column has after loading."""
        return dtype_of(self)


def dtype_of(col: Column):
    if col.kind == "code":
        return pd.CategoricalDtype(list(col.codes), ordered=col.ordered)
    return {
        "text": "string",
        "codelist": "string",
        "date": "datetime64[ns]",
        "int": "Int16",
        "number": "float64",
        "bool": "boolean",
    }[col.kind]


TRAJECTORY_COLUMNS: tuple[Column, ...] = (
    Column("trajectory_id", "text", True, meaning="unique per row"),
    Column("client_id", "text", True, meaning="pseudonymised youth id"),
    Column("institution", "text", True, meaning="provider or gecertificeerde instelling"),
    Column("municipality", "text", meaning="gemeente code, e.g. GM0344"),
    Column("care_type", "code", True, CARE_TYPES),
    Column("care_form", "code", True, ALL_CARE_FORMS),
    Column("start_date", "date", True),
    Column("end_date", "date"),
    Column("end_reason", "code", False, ALL_END_REASONS),
    Column("birth_year", "int", True, low=BIRTH_YEAR_MIN),
    Column("sex", "code", False, SEX),
    Column("complexity", "code", False, COMPLEXITY, ordered=True),
    Column("perspective", "code", False, PERSPECTIVE),
    Column("out_of_home", "bool"),
    Column("registration_date", "date"),
    Column("first_contact_date", "date"),
    Column("goals_realised", "code", False, GOALS_REALISED, ordered=True),
    Column("without_help", "bool"),
    Column("help_accepted", "code", False, HELP_ACCEPTED),
    Column("threat_start", "int", low=1, high=5),
    Column("threat_end", "int", low=1, high=5),
    Column("risk_start", "code", False, RISK_LEVELS, ordered=True),
    Column("risk_end", "code", False, RISK_LEVELS, ordered=True),
    Column("rom_instrument", "text", meaning="key of the instrument table"),
    Column("rom_start", "number"),
    Column("rom_end", "number"),
    Column("recidivism", "bool"),
    Column("working_alliance", "number", low=1, high=5),
    Column("chain_cooperation", "number", low=1, high=5),
    Column("issues", "codelist", codes=ISSUE_CODES),
)

GOAL_COLUMNS: tuple[Column, ...] = (
    Column("trajectory_id", "text", True),
    Column("goal_id", "text", True),
    Column("score", "number", True, low=GAS_SCALE[0], high=GAS_SCALE[1]),
    Column("weight", "number", low=0),
    Column("informant", "code", False, GOAL_INFORMANTS),
)

EXPERIENCE_COLUMNS: tuple[Column, ...] = (
    Column("trajectory_id", "text", True),
    Column("informant", "code", True, EXPERIENCE_INFORMANTS),
    Column("helped", "bool"),
    Column("score", "number", low=1, high=10),
)

TABLES = {
    "trajectories": TRAJECTORY_COLUMNS,
    "goals": GOAL_COLUMNS,
    "experience": EXPERIENCE_COLUMNS,
}


def columns(table: str) -> dict[str, Column]:
    """The contract's columns of ``table`` by name."""
    try:
        return {c.name: c for c in TABLES[table]}
    except KeyError:
        raise KeyError(f"unknown table {table!r}; the contract has {sorted(TABLES)}") from None


def empty_frame(table: str) -> pd.DataFrame:
    """An empty DataFrame with the contract's columns and dtypes for ``table``."""
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in TABLES[table]})


def frame(table: str, records) -> pd.DataFrame:
    """A DataFrame of ``table`` from records (dicts), with the contract's columns and dtypes.

    Missing columns are empty; dates may be given as ISO strings. Meant for small hand-made tables
    (toy examples, tests), not for deliveries: those go through ``io.load`` and its validation.

    >>> frame("experience", [{"trajectory_id": "t1", "informant": "ouder", "helped": True}]).dtypes["informant"]
    CategoricalDtype(categories=['jeugdige', 'ouder', 'professional'], ordered=False, categories_dtype=str)
    """
    cols = columns(table)
    df = pd.DataFrame(list(records), columns=list(cols))
    for name, col in cols.items():
        if col.kind == "date":
            df[name] = pd.to_datetime(df[name])
    return df.astype({name: col.dtype for name, col in cols.items()})


def end_reason_fits(care_form: str, end_reason: str) -> bool:
    """Whether ``end_reason`` is allowed for a trajectory of ``care_form``."""
    group = END_REASON_GROUP_OF_FORM.get(care_form)
    return group is not None and end_reason in END_REASONS[group]
