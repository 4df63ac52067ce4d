"""The exception tree. Every problem is a located, coded record; errors carry all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from .location import UNKNOWN, Location

#: OPA caps its error list; beyond this many a message says how many more there were.
MAX_SHOWN = 50


def _path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


@attrs.frozen(order=False)
class Problem:
    """One mistake in a ruleset or an incident.

    ``code`` is stable (``ruleset.unknown_key``, ``condition.syntax``, ...), ``path`` is the
    key path inside the document, ``expected``/``got`` say what should have been there and
    what was found, ``suggestion`` is a did-you-mean (a name) or a hint (a sentence).
    """

    code: str
    message: str
    location: Location = UNKNOWN
    path: tuple[str | int, ...] = ()
    expected: str | None = None
    got: str | None = None
    suggestion: str | None = None

    @property
    def path_text(self) -> str:
        return _path_text(self.path)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.file, loc.line, loc.col, self.code, self.message)

    def __str__(self) -> str:
        text = f"{self.location}: {self.code}: {self.message}"
        if self.path:
            text += f" (at {self.path_text})"
        if self.expected is not None or self.got is not None:
            text += f"; expected {self.expected}, got {self.got}"
        if self.suggestion:
            # A name is offered as a did-you-mean; a sentence is advice, shown as a hint.
            if " " in self.suggestion.strip():
                text += f"; hint: {self.suggestion}"
            else:
                text += f"; did you mean {self.suggestion!r}?"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "path": self.path_text,
            "expected": self.expected,
            "got": self.got,
            "suggestion": self.suggestion,
        }


class ErrorrulesError(Exception):
    """Root of every exception errorrules raises on purpose."""


class _ProblemsError(ErrorrulesError, ValueError):
    """An error that carries every problem found, sorted by location."""

    kind = "problems"

    def __init__(self, problems: Iterable[Problem]) -> None:
        ordered = sorted(problems, key=Problem.sort_key)
        # Same problem reached by two routes (e.g. schema and semantics) is said once.
        seen: set[str] = set()
        unique = []
        for p in ordered:
            if str(p) not in seen:
                seen.add(str(p))
                unique.append(p)
        self.problems: tuple[Problem, ...] = tuple(unique)
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in {self.kind}:"]
        lines += [str(p) for p in self.problems[:MAX_SHOWN]]
        if n > MAX_SHOWN:
            lines.append(f"... and {n - MAX_SHOWN} more (too many errors)")
        return "\n".join(lines)


class RulesetError(_ProblemsError):
    """A ruleset could not be loaded: every problem in it, sorted by file, line, column."""

    kind = "ruleset"


class IncidentError(_ProblemsError):
    """An incident does not fit its ruleset's incident schema."""

    kind = "incident"


class EngineUnavailable(ErrorrulesError, RuntimeError):
    """The requested engine cannot run here (e.g. durable-rules on Python 3.13+)."""


class EngineError(ErrorrulesError, RuntimeError):
    """An engine failed while evaluating (a swallowed action error surfaced, a limit hit)."""
