"""Definition settings: the choices where no national definition was found.

One :class:`Settings` object travels through loading, computing, adjusting and reporting; every
report's methods section prints it, and a batch records it in its manifest. Users change them in one
YAML file (``run_reports.py --config FILE``) whose keys are the field names below.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import OutcomeAnalysisError

#: regular ends per end-reason group (indicators.md, "Regular end").
DEFAULT_REGULAR_ENDS = {
    "jb_ots": ("volgens_plan", "tussentijdse_opheffing", "niet_verlengd"),
    "jb_voogdij": ("herstel_gezag", "naar_pleegouder", "naar_burgervoogd", "meerderjarig"),
    "jr": ("volgens_plan", "tussentijdse_opheffing", "volwassenreclassering"),
}

DEFAULT_COVARIATES = (
    "complexity",
    "perspective",
    "age_group",
    "sex",
    "care_form",
    "out_of_home",
    "earlier_trajectories",
)


#: what a delivery covers: ``delivery`` (the institutions that happen to be in it) or ``national``
#: (declared to cover the whole country, e.g. the demo). Only a national delivery is called "landelijk".
DELIVERY_SCOPES = ("delivery", "national")

#: the settings file a delivery folder may carry; used when no ``--config`` is given.
DELIVERY_SETTINGS_FILE = "settings.yaml"


class SettingsError(OutcomeAnalysisError, ValueError):
    """A settings file or value that does not fit."""


@dataclass(frozen=True)
class Settings:
    """All definition settings, with the defaults of indicators.md.

    Attributes
    ----------
    window_herhaald_beroep : int
        Follow-up window in months for ``jbjr_herhaald_beroep`` and ``pi08_geen_nieuwe_maatregel``.
    window_herhaald_beroep_extra : int
        A second window also reported for herhaald beroep (24 months).
    window_nieuwe_start : int
        Follow-up window in months for ``jh_geen_nieuwe_start`` / ``pi05_geen_nieuw_beroep``.
    window_vervolghulp : int
        Window in months within which a next trajectory counts as follow-up care (``pi06``).
    window_recidive : int
        Window of the ``recidivism`` item (24 months after the end, as delivered).
    continuation_days : int
        A record starting at most this many days after the latest end so far continues the episode.
    min_denominator : int
        Shares with a smaller denominator are hidden.
    min_count : int
        Counts shown as counts below this are hidden.
    min_cell : int
        The two-cell rule for shares: a share (and everything computed from its cells) is shown
        only when its numerator and its complement (denominator - numerator) both reach this
        (default 10, CBS practice); else it is shown as a band ("minder dan 10 van de 40").
    round_to : int
        Shown counts are rounded to multiples of this.
    conf : float
        Confidence level of every interval, as a fraction.
    ci_method : str
        ``"wilson"`` or ``"exact"`` (Clopper-Pearson) for shares.
    gas_rho : float
        Assumed correlation between goal scores in the GAS T-score (Kiresuk & Sherman).
    gas_scale : tuple of int
        Lowest and highest GAS score.
    gas_threshold : float
        A trajectory's goals count as realised when its T-score is at least this.
    rci_threshold : float
        |RCI| above this is reliable change (1.96 for 95%).
    regular_ends : dict
        Regular end reasons per end-reason group.
    covariates : tuple of str
        Default case-mix covariates.
    funnel_limits : tuple of float
        Funnel-plot control limits, as fractions.
    signal_limit : float
        The funnel limit against which an institution's ``signal`` is read.
    overdispersion_trim : float
        Winsorising fraction on each side for the additive tau^2 (Spiegelhalter 2005).
    min_expected : float
        An O/E is judged only with at least this many expected events and expected non-events;
        below it the verdict is "too little to compare" (:mod:`outcome_analysis.statistics.verdict`).
    action_lag_months : int
        Months after a verbeteractie's ``agreed_on`` before its after-window starts (default 3): the
        before/after judgement compares the trajectories ended in the 12 months before the agreement
        with those ended from ``agreed_on`` + this lag to the end of the report period
        (:mod:`outcome_analysis.running.actions`). 0 up to 24.
    rankability_high : float
        Rankability above this is "high" (Lingsma et al. 2010; 0.50 up to it is "moderate"); only
        then does the national overview order institutions by O/E.
    delivery_scope : str
        ``"delivery"`` (default): the pooled figure is "all institutions in this delivery (N)";
        ``"national"``: the delivery is declared to cover the country, and the pooled figure is
        called "landelijk" / "national". With one institution there is no comparator either way
        (:func:`outcome_analysis.report.comparison_scope`).
    demo : bool
        The delivery holds fictitious demo data (``False`` by default); every report made from it says
        "Fictieve gegevens (demo)" on its cover and in its running header. The demo writer sets it.
    """

    window_herhaald_beroep: int = 12
    window_herhaald_beroep_extra: int = 24
    window_nieuwe_start: int = 12
    window_vervolghulp: int = 3
    window_recidive: int = 24
    continuation_days: int = 1
    min_denominator: int = 10
    min_count: int = 10
    min_cell: int = 10
    round_to: int = 5
    conf: float = 0.95
    ci_method: str = "wilson"
    gas_rho: float = 0.3
    gas_scale: tuple[int, int] = (-2, 2)
    gas_threshold: float = 50.0
    rci_threshold: float = 1.96
    regular_ends: dict = field(default_factory=lambda: {k: tuple(v) for k, v in DEFAULT_REGULAR_ENDS.items()})
    covariates: tuple[str, ...] = DEFAULT_COVARIATES
    funnel_limits: tuple[float, ...] = (0.95, 0.998)
    signal_limit: float = 0.998
    overdispersion_trim: float = 0.1
    min_expected: float = 5.0
    action_lag_months: int = 3
    rankability_high: float = 0.75
    delivery_scope: str = "delivery"
    demo: bool = False

    def __post_init__(self) -> None:
        if self.delivery_scope not in DELIVERY_SCOPES:
            raise SettingsError(f"delivery_scope must be one of {DELIVERY_SCOPES}, got {self.delivery_scope!r}")
        if not isinstance(self.demo, bool):
            raise SettingsError(f"demo must be true or false, got {self.demo!r}")
        if not 0 < self.conf < 1:
            raise SettingsError(f"conf must be a fraction between 0 and 1, got {self.conf!r}")
        if self.ci_method not in ("wilson", "exact"):
            raise SettingsError(f"ci_method must be 'wilson' or 'exact', got {self.ci_method!r}")
        for name in ("min_denominator", "min_count", "min_cell", "round_to"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if not self.min_expected > 0:
            raise SettingsError(f"min_expected must be a positive number of expected events, got {self.min_expected!r}")
        if isinstance(self.action_lag_months, bool) or not isinstance(self.action_lag_months, int) \
                or not 0 <= self.action_lag_months <= 24:
            raise SettingsError(f"action_lag_months must be a whole number of months from 0 up to 24, "
                                f"got {self.action_lag_months!r}")
        if not 0.5 <= self.rankability_high < 1:
            raise SettingsError(f"rankability_high must be a fraction from 0.5 up to 1, got {self.rankability_high!r}")
        for lim in self.funnel_limits:
            if not 0 < lim < 1:
                raise SettingsError(f"funnel limits are fractions between 0 and 1, got {lim!r}")

    def replace(self, **changes) -> "Settings":
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain data (for YAML, JSON manifests and hashing)."""
        out = dataclasses.asdict(self)
        out["regular_ends"] = {k: list(v) for k, v in self.regular_ends.items()}
        for key in ("gas_scale", "covariates", "funnel_limits"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, values: dict | None) -> "Settings":
        """Settings from plain data; unknown keys are an error that names them."""
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown setting(s) {unknown}; known settings are {sorted(known)}")
        if "regular_ends" in values:
            values["regular_ends"] = {k: tuple(v) for k, v in values["regular_ends"].items()}
        for key in ("gas_scale", "covariates", "funnel_limits"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Settings":
        """Settings from a YAML file whose keys are the field names."""
        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
        if values is not None and not isinstance(values, dict):
            raise SettingsError(f"settings file {path} must hold a mapping of setting: value")
        return cls.from_dict(values)


DEFAULT = Settings()


def delivery_settings_file(data_path: str | Path) -> Path | None:
    """The ``settings.yaml`` that goes with a delivery: in the delivery folder (or, for a delivery
    given as one file, beside it); ``None`` when there is none."""
    path = Path(data_path)
    folder = path if path.is_dir() else path.parent
    candidate = folder / DELIVERY_SETTINGS_FILE
    return candidate if candidate.is_file() else None


def for_delivery(data_path: str | Path, config: str | Path | None = None) -> tuple[Settings, Path | None]:
    """The settings a run on ``data_path`` uses, and the file they came from.

    ``config`` (a ``--config`` file) wins; otherwise the delivery's own ``settings.yaml``
    (:func:`delivery_settings_file`); otherwise :data:`DEFAULT` (file ``None``). The batch, a report
    notebook run alone and the explorer all decide with this one function.
    """
    source = Path(config) if config else delivery_settings_file(data_path)
    if source is None:
        return DEFAULT, None
    return Settings.from_yaml(source), source
