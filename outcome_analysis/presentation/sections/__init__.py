"""Report sections, one module each, grouped per document (:mod:`outcome_analysis.presentation.documents`)."""
