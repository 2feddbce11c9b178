"""Check the Debian prerequisites that pip cannot install, and say clearly what is missing.

WeasyPrint (the PDF step) needs Pango and at least one font; everything else comes from PyPI.
Exit status 1 when a required piece is missing (with the apt-get line that installs it).
"""
from __future__ import annotations

import argparse
import ctypes.util
import shutil
import subprocess
import sys

REQUIRED = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
}
FONT_PACKAGE = "fonts-dejavu-core"
OPTIONAL = {
    "chromium": ("chromium", "the explorer's browser test (skipped without it)"),
    "pdftoppm": ("poppler-utils", "scripts/render_pdf_pages.sh (looking at PDF pages as images)"),
}


def has_fonts() -> bool:
    if shutil.which("fc-list") is None:
        return False
    out = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    return bool(out.strip())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quiet", action="store_true", help="print only problems")
    args = parser.parse_args(argv)

    missing = [pkg for lib, pkg in REQUIRED.items() if ctypes.util.find_library(lib) is None]
    if not has_fonts():
        missing.append(FONT_PACKAGE)
    if missing:
        print(
            "error: missing Debian prerequisites for PDF reports (WeasyPrint needs Pango and fonts).\n"
            f"       install them with:  sudo apt-get install -y {' '.join(missing)}",
            file=sys.stderr,
        )
        return 1
    if not args.quiet:
        print("system prerequisites: Pango and fonts found")
        for tool, (pkg, why) in OPTIONAL.items():
            if shutil.which(tool) is None:
                print(f"note: '{tool}' not found (apt-get install {pkg}); needed only for {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
