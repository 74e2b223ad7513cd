"""What happened to a submitted notebook, and to each graded cell in it: never a silent zero.

A notebook is graded, repaired first (and the repairs named), or not graded (and the reason given). A graded cell
was scored by the autograder, graded by hand, waits for a hand grade, or is a written answer left untouched (which
nbgrader scores 0 at once). The grade sheets write both as text and read them back (``parse``), so a merge of
shards or a later export sees what the grading run saw.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Outcome", "NotebookStatus", "CellState", "GRADED"]


class Outcome(enum.Enum):
    GRADED = "graded"
    REPAIRED = "repaired"
    NOT_GRADED = "not graded"


@dataclass(frozen=True)
class NotebookStatus:
    """A notebook's outcome and its notes: the repairs made, or why it could not be graded."""

    outcome: Outcome
    notes: tuple[str, ...] = ()

    @classmethod
    def repaired(cls, changes: list[str]) -> NotebookStatus:
        return cls(Outcome.REPAIRED, tuple(changes)) if changes else GRADED

    @classmethod
    def not_graded(cls, reason: str) -> NotebookStatus:
        return cls(Outcome.NOT_GRADED, (reason,))

    @property
    def graded(self) -> bool:
        """Whether the notebook has scores (graded or repaired)."""
        return self.outcome is not Outcome.NOT_GRADED

    def __str__(self) -> str:
        return f"{self.outcome.value}: {'; '.join(self.notes)}" if self.notes else self.outcome.value

    @classmethod
    def parse(cls, text: str) -> NotebookStatus:
        """The status ``str`` wrote (``"graded"`` for an empty cell: a notebook graded without grade_class)."""
        head, _, notes = (text or Outcome.GRADED.value).partition(": ")
        try:
            outcome = Outcome(head.strip())
        except ValueError:
            raise ValueError(f"unknown status {text!r}: expected 'graded', 'repaired: ...' or 'not graded: ...'")
        if outcome is Outcome.NOT_GRADED:
            return cls(outcome, (notes,) if notes else ())
        return cls(outcome, tuple(note for note in notes.split("; ") if note))


GRADED = NotebookStatus(Outcome.GRADED)


class CellState(enum.Enum):
    """How a graded cell got its score (or why it has none yet)."""

    AUTOGRADED = "autograded"
    HAND_GRADED = "graded by hand"
    AWAITING = "awaiting manual grading"  # a written answer nobody has graded yet: no score, never a zero
    UNANSWERED = "unanswered"  # a written answer left as released: nbgrader's 0
    NOT_GRADED = "not graded"  # the notebook could not be graded
