"""The pieces a laid-out dossier is made of (pure): cells that may cite a proof,
paragraphs, tables, lists and numbered sections; the proof numbering and the fixed
wording both renderers share.

Cells hold raw text; escaping is the renderer's job, once, at render time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitml.dossier.model import Dossier, Proof


@dataclass(frozen=True)
class Cell:
    """A piece of text; ``code`` for names and hashes; ``proof`` cited after it."""

    text: str
    proof: Proof | None = None
    code: bool = False


Line = tuple[Cell, ...]


@dataclass(frozen=True)
class Paragraph:
    """Cells run together as one paragraph."""

    cells: Line


@dataclass(frozen=True)
class Table:
    """A table: a header of words, rows of cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Bullets:
    """A list, one line of cells per item."""

    items: tuple[Line, ...]


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str


Block = Paragraph | Table | Bullets | Heading


@dataclass(frozen=True)
class Section:
    """One numbered section of the dossier."""

    number: int
    title: str
    blocks: tuple[Block, ...]

    @property
    def anchor(self) -> str:
        """The section's anchor: ``section-3``."""
        return f"section-{self.number}"


def proof_index(dossier: Dossier, laid_out: tuple[Section, ...]) -> dict[Proof, int]:
    """Every proof numbered from 1: in order of first citation on the page, then any the
    layout does not cite (so the appendix lists every proof the JSON holds)."""
    found: dict[Proof, int] = {}

    def cite(cells: Line) -> None:
        for cell in cells:
            if cell.proof is not None and cell.proof not in found:
                found[cell.proof] = len(found) + 1

    for section in laid_out:
        for block in section.blocks:
            if isinstance(block, Paragraph):
                cite(block.cells)
            elif isinstance(block, Table):
                for row in block.rows:
                    cite(row)
            elif isinstance(block, Bullets):
                for item in block.items:
                    cite(item)
    for proof in dossier.proofs():
        if proof not in found:
            found[proof] = len(found) + 1
    return found


PROOF_HELP = (
    "Each proof is a git object in this repository: `git cat-file -p OBJECT` shows the tag "
    "record, commit or file that states the fact. An md5 is DVC's content hash of the bytes "
    "in the DVC remote, as the file shown records it; a pull request or CI run is named by "
    "the tag record shown."
)
INTRO = (
    "Technical documentation of one model version, in the sections of the EU AI Act's "
    "Annex IV. Every fact was read from git (registry tags and the files at the registered "
    "commit) and cites its proof; facts only a person can write come from the model card."
)

_SAFE_URL = re.compile(r"https?://[A-Za-z0-9.:-]+(?:/[A-Za-z0-9._~%+-]+)*/?")


def safe_url(url: str) -> bool:
    """Whether ``url`` is a plain web address (scheme, host, path; nothing to escape)."""
    return _SAFE_URL.fullmatch(url) is not None
