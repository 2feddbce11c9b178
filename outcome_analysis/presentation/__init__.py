"""Presentation: the report vocabulary and formatting (report), the institution report (story) and its sections, the
national overview, the methods notebook, figures (plots), HTML/PDF export and the explorer."""
