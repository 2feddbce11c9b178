"""Context beside the outcomes of a gemeente (jeugdregio): the institution report's context section
(:mod:`..institution.context`: target group, waiting time, kwesties) on the unit's story, whose texts
say "deze gemeente" where the institution report says "deze instelling"."""
from __future__ import annotations

from ..institution import context as _institution
from .unit import UnitStory

NAME = "context"


def build(story: UnitStory) -> list:
    """The institution context section, built for the unit."""
    return _institution.build(story)
