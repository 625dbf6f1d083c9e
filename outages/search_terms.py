"""Area search the way people type: accents optional, district numbers in
Arabic or Roman numerals ("District 5", "V. kerület", "5. kerület"), and
the other names ops give an area (ServiceArea.aliases).

An area keeps its words, folded, in ServiceArea.search_terms
(" 5 budapest district lipotvaros "); a query is folded the same way and
every one of its words must begin a word of the area (numbers match whole).
Pure functions: no database, no models.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[0-9]+|[^\W\d_]+")
_ROMAN = re.compile(r"^(x{0,4})(ix|iv|v?i{0,3})$|^(xl)(ix|iv|v?i{0,3})$|^l$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50}
# Words that mean "district" in the site's languages (folded).
SYNONYMS = {"kerulet": "district", "ker": "district", "keruletben": "district", "רובע": "district"}
ROMAN_MAX = 50  # district numbers; longer "numerals" are words ("mix", "civic")


def fold(text: str) -> str:
    """Lower case, accents off: "Gödöllő" -> "godollo"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def roman(word: str) -> int | None:
    """The value of a Roman numeral up to ROMAN_MAX, else None."""
    if not word or not _ROMAN.match(word):
        return None
    total = 0
    for char, following in zip(word, [*word[1:], ""]):
        value = _ROMAN_VALUES[char]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total if 0 < total <= ROMAN_MAX else None


def words(text: str) -> list[str]:
    """Folded words of a name or a query, numerals as Arabic numbers, synonyms merged."""
    found = []
    for word in _WORD.findall(fold(text)):
        if word.isdigit():
            word = str(int(word))
        elif (value := roman(word)) is not None:
            word = str(value)
        found.append(SYNONYMS.get(word, word))
    return found


def split_aliases(raw: str) -> list[str]:
    return [alias.strip() for alias in re.split(r"[,;\n]+", raw or "") if alias.strip()]


def area_terms(name: str, aliases: str = "") -> str:
    """What ServiceArea.search_terms stores: its distinct words between spaces."""
    terms = sorted({word for text in [name, *split_aliases(aliases)] for word in words(text)})
    return f" {' '.join(terms)} " if terms else ""


def query_patterns(query: str) -> list[str]:
    """The substrings search_terms must contain, one per word of the query:
    " 5 " for a number (whole), " godo" for a word (its beginning)."""
    return [f" {word} " if word.isdigit() else f" {word}" for word in words(query)]
