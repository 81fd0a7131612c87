"""Which of the languages Bandeja serves (English, Spanish, Italian) a customer writes in.

Most platforms do not say what language a person uses (only Telegram sends a ``language_code``),
so the composer would pick a saved reply's English variant for a customer writing in Italian.
Short social messages are well told apart by their function words ("the", "que", "che") and a
few spellings (``ñ``, ``¿``, ``perché``): no model needed for three languages this different.
``bench/language_guess.py`` measures it on real tweets in the three languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words frequent in one language and rare in the other two (accents folded away would merge
# Spanish "qué"/Italian "che" cues, so the words are matched as written, lower-cased).
_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is are was were you your this that with for have has not but what "
        "will would can could just like my me it's i'm don't thanks thank please "
        "of to in on at be we they our hi hello when where why how there here from"
    ),
    "es": _words(
        "el los las que es y en del por para con una un pero muy más como está estoy "
        "hola gracias yo tu mi me se lo le al sus mis hay son fue ya también todo "
        "qué cómo cuándo dónde porque nada bien buenos buenas tengo tienen puedo usted"
    ),
    "it": _words(
        "il lo gli che è e di del della per con una un non ma molto più come sono "
        "ciao grazie io tu mi ti si ci al alla nel nella anche tutto perché quando "
        "dove cosa bene buongiorno buonasera ho hai ha abbiamo posso questo questa sei"
    ),
}
# A word two languages share ("con", "un", "me") says nothing: keep each word in one set only.
_WORDS = {
    language: words.difference(*(other for lang, other in _WORDS.items() if lang != language))
    for language, words in _WORDS.items()
}
# Spellings one language has and the other two do not.
_MARKS: dict[str, re.Pattern[str]] = {
    "es": re.compile(r"[ñ¿¡]|ción\b|ciones\b"),
    "it": re.compile(r"\w[àèìòù]\b|zione\b|zioni\b|\b(?:gli|chi|ch[ei]\w*)\b"),
}
_TOKEN = re.compile(r"[\w']+", re.UNICODE)
# A guess needs this many points and this lead over the runner-up.
_MIN_SCORE = 1
_MIN_LEAD = 1


def guess_language(texts: Iterable[str]) -> str | None:
    """``"en"``, ``"es"`` or ``"it"`` for what these texts (one person's messages) are written in,
    or None when they do not say clearly enough (too short, mixed, another language)."""
    scores = dict.fromkeys(_WORDS, 0)
    for text in texts:
        lowered = text.lower()
        for token in _TOKEN.findall(lowered):
            for language, words in _WORDS.items():
                if token in words:
                    scores[language] += 1
        for language, mark in _MARKS.items():
            scores[language] += 2 * len(mark.findall(lowered))
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < _MIN_SCORE or top - second < _MIN_LEAD:
        return None
    return best
