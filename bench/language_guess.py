"""How well ``bandeja.core.language.guess_language`` tells English, Spanish and Italian apart,
on real tweets (../shared/data/sentiment/<language>/{val,test}_text.txt, see its PROVENANCE.md).

    .venv/bin/python -m bench.language_guess

Prints, per language, the share guessed right, guessed wrong and left unguessed (None), for one
message alone and for three messages of the same language together (what the composer has for a
customer who wrote a few times). It asserts nothing.
"""

from __future__ import annotations

import random
from pathlib import Path

from bandeja.core.language import guess_language

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"
LANGUAGES = {"en": "english", "es": "spanish", "it": "italian"}


def _texts(folder: str) -> list[str]:
    lines: list[str] = []
    for split in ("val", "test"):
        path = DATA / folder / f"{split}_text.txt"
        if path.exists():
            lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


def main() -> None:
    if not DATA.exists():
        raise SystemExit(f"no data at {DATA} (../shared beside the repository)")
    rng = random.Random(7)
    print(f"{'language':<9}{'texts':>7}  {'1 message: right / wrong / none':<34}3 messages")
    for code, folder in LANGUAGES.items():
        texts = _texts(folder)
        one = [guess_language([t]) for t in texts]
        groups = [rng.sample(texts, 3) for _ in range(len(texts))]
        three = [guess_language(g) for g in groups]

        def shares(guesses: list[str | None], code: str = code) -> str:
            n = len(guesses)
            right = sum(g == code for g in guesses) / n
            none = sum(g is None for g in guesses) / n
            return f"{right:6.1%} / {max(0.0, 1 - right - none):5.1%} / {none:5.1%}"

        print(f"{code:<9}{len(texts):>7}  {shares(one):<34}{shares(three)}")


if __name__ == "__main__":
    main()
