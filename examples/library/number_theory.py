"""Integer and rational helpers."""

from fractions import Fraction
from math import gcd


def continued_fraction(value: Fraction, limit: int = 8) -> list[int]:
    """The terms of `value`'s continued fraction, at most `limit` of them."""
    terms = []
    while len(terms) < limit:
        whole = value.numerator // value.denominator
        terms.append(whole)
        rest = value - whole
        if rest == 0:
            break
        value = 1 / rest
    return terms


def egyptian(value: Fraction) -> list[Fraction]:
    """Greedy Egyptian-fraction expansion of a fraction between 0 and 1."""
    if not 0 < value < 1:
        raise ValueError("the fraction must lie strictly between 0 and 1")
    parts = []
    while value.numerator != 1:
        denominator = -(-value.denominator // value.numerator)
        parts.append(Fraction(1, denominator))
        value -= Fraction(1, denominator)
    parts.append(value)
    return parts


def lcm_of(numbers: tuple[int, ...]) -> int:
    result = 1
    for number in numbers:
        if number == 0:
            return 0
        result = result * number // gcd(result, number)
    return abs(result)


def digits_in_base(number: int, base: int = 2) -> str:
    """`number` written in `base` (2 to 36)."""
    if not 2 <= base <= 36:
        raise ValueError("base must be between 2 and 36")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    number = abs(number)
    out = []
    while number:
        number, remainder = divmod(number, base)
        out.append(alphabet[remainder])
    return sign + "".join(reversed(out))
