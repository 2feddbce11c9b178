"""The indicator set ``prestatie``: its compared indicators, then those the delivery cannot show."""
from ._set import build_set

NAME = "prestatie"


def build(ov) -> list:
    return build_set(ov, NAME)
