"""Small text utilities: nobody calls them here, so only call-input synthesis makes them tasks."""

import re
import unicodedata

_WORD = re.compile(r"[A-Za-z0-9]+")


def slugify(title: str, separator: str = "-") -> str:
    """Lowercase ASCII words joined by `separator`.

    >>> slugify("Hello, World!")
    'hello-world'
    """
    normalized = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    words = _WORD.findall(normalized.lower())
    if not words:
        return ""
    return separator.join(words)


def wrap_words(text: str, width: int = 12) -> list[str]:
    """Greedy line breaking: every line at most `width` characters unless one word is longer."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def run_length(text):
    """Run-length encoding as (character, count) pairs."""
    runs = []
    for char in text:
        if runs and runs[-1][0] == char:
            runs[-1] = (char, runs[-1][1] + 1)
        else:
            runs.append((char, 1))
    encoded = "".join(f"{count}{char}" for char, count in runs)
    if len(encoded) >= len(text):
        return text
    return encoded


def initials(name: str, keep_particles: bool = False) -> str:
    particles = {"van", "von", "de", "da", "di", "le", "la"}
    parts = [part for part in name.replace("-", " ").split() if part]
    letters = []
    for part in parts:
        if part.lower() in particles and not keep_particles:
            continue
        letters.append(part[0].upper())
    if not letters:
        raise ValueError("a name needs at least one part")
    return ".".join(letters) + "."
