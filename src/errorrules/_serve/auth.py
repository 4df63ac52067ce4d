"""Who may do what: bearer tokens, each stored as its SHA-256 in a tokens file, with scopes.

The tokens file (``--tokens FILE``) is YAML or JSON: a list of entries, or a mapping whose
``tokens`` key holds the list. Each entry names a principal (recorded, inside the hash, in
every register entry it appends), the token's digest and its scopes::

    - {name: oa-system, sha256: "sha256:9f86d08…", scopes: [decide, register]}

Tokens are never stored in clear: ``errorrules token NAME --scope …`` prints a new one once,
and the entry to add. A presented token is hashed and compared with every entry's digest by
``hmac.compare_digest`` (constant time per entry, and every entry is compared, so the time
taken says nothing about which entry, if any, was near). Every mistake in the file is one
located :class:`~errorrules.Problem`, all of them raised together as :class:`TokensError`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import attrs

from .._base.errors import ErrorrulesError, Problem
from .._base.location import Location
from .._base.suggest import did_you_mean
from .._load.yaml import Node, load_text

__all__ = [
    "ANONYMOUS",
    "SCOPES",
    "Principal",
    "TokenBook",
    "TokensError",
    "entry_line",
    "hash_token",
    "name_problem",
    "new_token",
]

#: decide: decide, explain, check, ruleset info; register: register, correct; read: history;
#: audit: assess, verify, head; admin: reload
SCOPES: Final = ("decide", "register", "read", "audit", "admin")
_KEYS: Final = ("name", "sha256", "scopes")
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_DIGEST: Final = re.compile(r"sha256:[0-9a-f]{64}")
_MAX_FILE: Final = 1 << 20


class TokensError(ErrorrulesError):
    """A tokens file that cannot be used: every mistake in it, each located."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@attrs.frozen
class Principal:
    """Who is calling: the entry's name and what it may do."""

    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return scope in self.scopes


#: every caller when the service runs without tokens (loopback only, unless told otherwise)
ANONYMOUS: Final = Principal("anonymous", frozenset(SCOPES))


def hash_token(token: str) -> str:
    """The digest a tokens file stores for ``token``: ``sha256:`` and 64 hex digits."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A new random token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def entry_line(name: str, scopes: Sequence[str], digest: str) -> str:
    """The tokens-file entry for a principal, one line of YAML."""
    return f'- {{name: {name}, sha256: "{digest}", scopes: [{", ".join(scopes)}]}}'


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a principal, or None when it can."""
    if _NAME.fullmatch(name):
        return None
    return (
        f"a principal's name is 1 to 64 letters, digits and . _ @ - (starting with a letter "
        f"or digit), not {name!r}"
    )


@attrs.frozen
class _Entry:
    digest: bytes  # the 32 bytes of the SHA-256
    principal: Principal


class TokenBook:
    """The principals of a tokens file; :meth:`principal` finds the one a token belongs to."""

    def __init__(self, entries: Iterable[tuple[str, str, Iterable[str]]] = ()) -> None:
        self._entries = tuple(
            _Entry(bytes.fromhex(digest.removeprefix("sha256:")), Principal(n, frozenset(s)))
            for n, digest, s in entries
        )

    def __len__(self) -> int:
        return len(self._entries)

    def principal(self, token: str) -> Principal | None:
        """The principal ``token`` belongs to, or None; compares with every entry."""
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found = None
        for entry in self._entries:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(presented, entry.digest):
                found = entry.principal
        return found

    @classmethod
    def read(cls, path: str) -> TokenBook:
        """The tokens file at ``path``; :class:`TokensError` with every mistake in it."""
        where = Location(path, 1, 1)
        try:
            data = Path(path).read_bytes()[: _MAX_FILE + 1]
        except OSError as exc:
            raise TokensError(
                [Problem("tokens.unreadable", f"cannot read: {exc.strerror or exc}", where)]
            ) from exc
        if len(data) > _MAX_FILE:
            raise TokensError([Problem("tokens.too_large", "larger than 1 MiB", where)])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TokensError(
                [Problem("tokens.encoding", f"not UTF-8 text (byte {exc.start + 1})", where)]
            ) from exc
        root, problems = load_text(text, path)
        if problems:
            raise TokensError(problems)
        entries = _entries(root, where, problems)
        if problems:
            raise TokensError(problems)
        return cls(entries)


def _entries(
    root: Node | None, where: Location, problems: list[Problem]
) -> list[tuple[str, str, list[str]]]:
    """The file's entries, each checked; what is wrong goes to ``problems``."""
    node = root
    if node is not None and node.kind == "map" and set(node.value) == {"tokens"}:
        node = node.value["tokens"]
    if node is None or node.kind != "seq" or not node.value:
        got = "nothing" if node is None else node.describe()
        problems.append(
            Problem(
                "tokens.no_entries",
                "a tokens file is a list of entries (or a mapping whose 'tokens' holds one)",
                node.loc if node is not None else where,
                expected="a list of {name, sha256, scopes}",
                got=got,
                suggestion="make an entry with `errorrules token NAME --scope decide`",
            )
        )
        return []
    out: list[tuple[str, str, list[str]]] = []
    names: dict[str, Location] = {}
    digests: dict[str, Location] = {}
    for i, item in enumerate(node.value):
        entry = _entry(i, item, problems)
        if entry is None:
            continue
        for key, seen, what in ((entry[0], names, "name"), (entry[1], digests, "sha256")):
            if key in seen:
                problems.append(
                    Problem(
                        "tokens.duplicate",
                        f"entry {i + 1} repeats the {what} of the entry at {seen[key].short}",
                        item.loc,
                        (i, what),
                    )
                )
            seen.setdefault(key, item.loc)
        out.append(entry)
    return out


def _entry(i: int, item: Node, problems: list[Problem]) -> tuple[str, str, list[str]] | None:
    """One entry as (name, digest, scopes), or None with its problems added."""
    start = len(problems)
    if item.kind != "map":
        problems.append(
            Problem(
                "tokens.bad_entry",
                f"entry {i + 1} is {item.describe()}",
                item.loc,
                (i,),
                "a mapping with name, sha256 and scopes",
                item.describe(),
            )
        )
        return None
    for key in item.value:
        if key not in _KEYS:
            problems.append(
                Problem(
                    "tokens.unknown_key",
                    f"entry {i + 1} has an unknown key {key!r}",
                    item.keys.get(key, item.loc),
                    (i, key),
                    "name, sha256, scopes",
                    repr(key),
                    did_you_mean(key, _KEYS),
                )
            )
    for key in _KEYS:
        if key not in item.value:
            problems.append(
                Problem("tokens.missing_key", f"entry {i + 1} needs {key!r}", item.loc, (i, key))
            )
    name = _text(i, item, "name", problems)
    if name is not None and (why := name_problem(name)) is not None:
        problems.append(_bad(i, item, "name", "tokens.bad_name", why))
    digest = _text(i, item, "sha256", problems)
    if digest is not None and not _DIGEST.fullmatch(digest):
        problems.append(
            _bad(
                i,
                item,
                "sha256",
                "tokens.bad_hash",
                "the token's digest is 'sha256:' and 64 lower-case hex digits (never the "
                "token itself)",
            )
        )
    scopes = _scopes(i, item, problems)
    if len(problems) > start or name is None or digest is None:
        return None
    return name, digest, scopes


def _text(i: int, item: Node, key: str, problems: list[Problem]) -> str | None:
    node = item.value.get(key)
    if node is None:
        return None
    if node.kind != "scalar" or not isinstance(node.value, str):
        problems.append(_bad(i, item, key, "tokens.bad_type", f"{key} must be text"))
        return None
    return str(node.value)


def _scopes(i: int, item: Node, problems: list[Problem]) -> list[str]:
    node = item.value.get("scopes")
    if node is None:
        return []
    values = node.value if node.kind == "seq" else [node]
    out: list[str] = []
    for n, v in enumerate(values):
        if v.kind == "scalar" and v.value in SCOPES:
            out.append(str(v.value))
            continue
        shown = v.value if v.kind == "scalar" else v.describe()
        problems.append(
            Problem(
                "tokens.bad_scope",
                f"entry {i + 1}: {shown!r} is not a scope",
                v.loc,
                (i, "scopes", n),
                ", ".join(SCOPES),
                repr(shown),
                did_you_mean(str(shown), SCOPES),
            )
        )
    if not values:
        problems.append(_bad(i, item, "scopes", "tokens.bad_scope", "scopes must not be empty"))
    return out


def _bad(i: int, item: Node, key: str, code: str, message: str) -> Problem:
    node = item.value[key]
    return Problem(code, f"entry {i + 1}: {message}", node.loc, (i, key), got=node.describe())
