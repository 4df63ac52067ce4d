"""Did-you-mean suggestions for misspelt keys, codes and field names.

Names are compared as a clerk writes them: the same name in another case is the name, and
``cat_2`` and ``cat_II`` are one name with its number written two ways (digits or a Roman
numeral), whatever the plain spelling distance says (``cat_V`` is nearer to ``cat_2`` by
letters). Among the names near enough, the fewest edits wins, and a name that only drops
characters of the word gives way to one as near that keeps them: for ``p10``, ``p11`` or
``p100`` rather than ``p1``, which drops the 0 the clerk wrote.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: a number: digits, or a Roman numeral in capitals standing alone (``cat_II``, ``Annex-IV``)
_NUMBER = re.compile(r"\d+|(?<![A-Za-z])[IVXLCDM]+(?![A-Za-z])")
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})\Z")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _roman(text: str) -> int | None:
    if not _ROMAN.match(text):
        return None
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN_VALUES[ch]
        following = _ROMAN_VALUES[text[i + 1]] if i + 1 < len(text) else 0
        total += -value if value < following else value
    return total


def _parts(name: str) -> tuple[str, tuple[int, ...]]:
    """A name as its letters with each number marked, and the numbers' values."""
    stem, numbers, at = "", [], 0
    for m in _NUMBER.finditer(name):
        text = m.group()
        # Past 40 digits it is no clerk's numbering (and int() refuses 4,300): compare it as text.
        value = (int(text) if len(text) <= 40 else None) if text.isdigit() else _roman(text)
        if value is None:
            continue
        stem += name[at : m.start()].lower() + "#"
        numbers.append(value)
        at = m.end()
    return stem + name[at:].lower(), tuple(numbers)


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]


def _only_drops(word: str, candidate: str) -> bool:
    """``candidate`` is ``word`` with characters left out (``p1`` of ``p10``)."""
    rest = iter(word)
    return len(candidate) < len(word) and all(ch in rest for ch in candidate)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``word``, or None when nothing is close enough."""
    pool = sorted(set(candidates))
    if not pool:
        return None
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    mine = _parts(word)
    same = [c for c in pool if c != word and _parts(c) == mine]
    if same:
        return same[0]  # cat_2 is cat_II: the same name, its number written another way
    close = difflib.get_close_matches(word, pool, n=len(pool), cutoff=0.6)
    if not close:
        return None
    ratio = {c: difflib.SequenceMatcher(None, word, c).ratio() for c in close}
    return min(close, key=lambda c: (_edits(word, c), _only_drops(word, c), -ratio[c], c))
