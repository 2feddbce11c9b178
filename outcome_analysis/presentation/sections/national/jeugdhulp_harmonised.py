"""The indicator set ``jeugdhulp_harmonised``: its compared indicators, then those the delivery cannot show."""
from ._set import build_set

NAME = "jeugdhulp_harmonised"


def build(ov) -> list:
    return build_set(ov, NAME)
