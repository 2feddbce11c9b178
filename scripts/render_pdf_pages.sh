#!/usr/bin/env bash
# Render the first pages of a PDF report to PNG, to look at the layout.
#   scripts/render_pdf_pages.sh REPORT.pdf OUTDIR [FIRST_PAGES=6] [DPI=70]
# Writes OUTDIR/page-01.png, page-02.png, ... (pdftoppm from poppler-utils).
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 REPORT.pdf OUTDIR [FIRST_PAGES=6] [DPI=70]" >&2
  exit 2
fi
pdf=$1
out=$2
pages=${3:-6}
dpi=${4:-70}
command -v pdftoppm >/dev/null || { echo "error: pdftoppm not found; apt-get install poppler-utils" >&2; exit 1; }
[[ -f $pdf ]] || { echo "error: no such file: $pdf" >&2; exit 1; }
mkdir -p -- "$out"
pdftoppm -png -r "$dpi" -f 1 -l "$pages" -- "$pdf" "$out/page"
ls -1 -- "$out"/page-*.png
