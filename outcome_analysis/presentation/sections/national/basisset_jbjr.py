"""The indicator set ``basisset_jbjr``: its compared indicators, then those the delivery cannot show."""
from ._set import build_set

NAME = "basisset_jbjr"


def build(ov) -> list:
    return build_set(ov, NAME)
