"""Hidden probes of a backward task (METHOD.md section 5): perturbed inputs the model never sees.

A perturbation changes a few literals of the program outside the masked line (a number, one
character of a string) or one character of its stdin, so the lines the model does not write are
what changes. core.tasks.construction runs each candidate on the original program and keeps those whose
stdout, stderr or status differ from the visible run: an answer that only reproduces the shown
output (printing it and stopping the program, by any means) then fails them.
Literals are found with `tokenize`, so an edit never touches code structure or line numbers.
"""

from __future__ import annotations

import io
import random
import tokenize
from dataclasses import dataclass

from codeboost_dagster.core.compiling import compile_problem

_DIGITS, _LOWER, _UPPER = "0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Perturbation:
    """A probe's program (same lines as the original) and stdin, and what was changed."""

    code: str
    stdin: str
    edits: tuple[str, ...]


@dataclass(frozen=True)
class _Site:
    """A literal token: 0-based line, start and end column."""

    line: int
    start: int
    end: int
    text: str


def _literal_sites(code: str, masked_index: int) -> list[_Site]:
    sites = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    for token in tokens:
        (row, start), (end_row, end) = token.start, token.end
        if row != end_row or row - 1 == masked_index:
            continue
        if token.type == tokenize.NUMBER or (token.type == tokenize.STRING and _string_body(token.string)):
            sites.append(_Site(row - 1, start, end, token.string))
    return sites


def _string_body(literal: str) -> tuple[int, int] | None:
    """(start, end) of a plain one-line string literal's contents; None for f-strings and others."""
    prefix = len(literal) - len(literal.lstrip("rRbBuU"))
    if "f" in literal[:prefix].lower() or literal[prefix : prefix + 3] in ('"""', "'''"):
        return None
    return prefix + 1, len(literal) - 1


def _other_char(char: str, rng: random.Random) -> str:
    alphabet = _DIGITS if char.isdigit() else _LOWER if char.islower() else _UPPER
    return rng.choice(alphabet.replace(char, ""))


def _edit_text(text: str, start: int, end: int, rng: random.Random) -> str | None:
    """`text` with one ASCII letter or digit of text[start:end] (not after a backslash) changed."""
    positions = [i for i in range(start, end) if text[i].isascii() and text[i].isalnum() and text[i - 1 : i] != "\\"]
    if not positions:
        return None
    position = rng.choice(positions)
    return text[:position] + _other_char(text[position], rng) + text[position + 1 :]


def _edit_number(literal: str, rng: random.Random) -> str | None:
    try:
        value = int(literal, 0) if literal.isdigit() else float(literal)
    except ValueError:
        return None
    if isinstance(value, int):
        return str(value + rng.choice((1, 2, 3)))
    return repr(round(value * rng.uniform(0.5, 1.5), 6))


def _edit_site(site: _Site, rng: random.Random) -> str | None:
    if site.text[0].isdigit() or site.text[0] == ".":
        return _edit_number(site.text, rng)
    body = _string_body(site.text)
    return _edit_text(site.text, *body, rng) if body else None


def perturbations(
    code: str, masked_index: int, stdin: str, rng: random.Random, count: int, edits: int
) -> list[Perturbation]:
    """Up to `count` distinct perturbations of `edits` literal or stdin changes each, none on the masked line."""
    sites: list[_Site | None] = [*_literal_sites(code, masked_index)]
    if any(char.isascii() and char.isalnum() for char in stdin):
        sites.append(None)  # stands for one stdin character
    found: dict[tuple[str, str], Perturbation] = {}
    for _ in range(count * 3):
        if not sites or len(found) >= count:
            break
        lines, new_stdin, described = code.split("\n"), stdin, []
        chosen = sorted(rng.sample(sites, min(edits, len(sites))), key=lambda s: (s is None, s and (s.line, -s.start)))
        for site in chosen:
            if site is None:
                new_stdin = _edit_text(stdin, 0, len(stdin), rng) or stdin
                described.append("stdin")
                continue
            replacement = _edit_site(site, rng)
            if replacement is None:
                continue
            line = lines[site.line]
            lines[site.line] = line[: site.start] + replacement + line[site.end :]
            described.append(f"line {site.line + 1}: {site.text} -> {replacement}")
        new_code = "\n".join(lines)
        if (new_code, new_stdin) == (code, stdin) or compile_problem(new_code) is not None:
            continue
        found.setdefault((new_code, new_stdin), Perturbation(new_code, new_stdin, tuple(described)))
    return list(found.values())
