"""The indicator definitions, one decorated builder per indicator (``@builder("jh_uitval")``),
grouped by kind. Importing this package registers them all (``indicators.builders``).

To add an indicator: its entry in ``outcome_analysis/data/indicators.yaml`` and one function
decorated with :func:`~outcome_analysis.indicators.builders.builder` in the module of its kind.
"""
from . import change, episodes, experience, follow_up_weight, gas, shares  # noqa: F401 (registers the builders)
