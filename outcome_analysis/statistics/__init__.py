"""Statistics: intervals and tests (stats), funnel limits, case-mix adjustment, survival curves, disclosure control."""
