"""The bot's answer finder (spec §18): which article answers a question, and how sure it is.

Articles and questions are read with the full-text engine's word rules
(:func:`supportchat.search.words`: accents and case folded, words are runs of
letters and digits), then each word is reduced to a *stem*: a short list of
Spanish and English endings is cut off (``pagos``/``pagar``/``pagado`` →
``pag``; ``refunds``/``refunded`` → ``refund``) and the rest kept to at most
:data:`STEM_LENGTH` letters. Function words of both languages (:data:`STOPWORDS`)
carry no meaning and are dropped.

The score is one number that can be explained to an agent: **the share of the
question's weight that the article covers**. Each stem of the question
weighs its inverse document frequency over the knowledge base (a word in few
articles says more about which one is meant); a stem no article uses weighs
as much as the rarest word, so a question about something the base does not
cover scores low instead of matching on its one common word. An article
covers a stem if its title, tags or body contain it. ``0.7`` means "the
article contains words making up 70 % of what the question says".

The bot answers when the best article's score reaches the threshold and
leads the runner-up by a margin (:class:`MatchPolicy`); otherwise it hands
the ticket to a person. :meth:`Matcher.explain` lists each question word with
its weight and whether the article covers it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..search import words

__all__ = [
    "STEM_LENGTH",
    "STOPWORDS",
    "Article",
    "Match",
    "MatchPolicy",
    "Matcher",
    "stem",
    "stems",
]

#: Stems are cut to this many letters (enough to tell ``contrase`` from ``contrato``).
STEM_LENGTH = 7

#: Endings cut off a word, longest first; only from words that keep at least 3 letters.
_ENDINGS = tuple(
    sorted(
        (
            # Spanish verbs and nouns
            "amientos",
            "imientos",
            "amiento",
            "imiento",
            "aciones",
            "iciones",
            "ándose",
            "iendo",
            "ando",
            "aron",
            "ieron",
            "aste",
            "iste",
            "amos",
            "emos",
            "imos",
            "ación",
            "acion",
            "ición",
            "icion",
            "ado",
            "ada",
            "ados",
            "adas",
            "ido",
            "ida",
            "idos",
            "idas",
            "aba",
            "ían",
            "ian",
            "ar",
            "er",
            "ir",
            "an",
            "en",
            "es",
            "as",
            "os",
            "a",
            "o",
            "e",
            "é",
            "ó",
            "s",
            # English
            "ations",
            "ation",
            "ings",
            "ing",
            "ied",
            "ies",
            "ed",
            "ly",
            "er",
        ),
        key=len,
        reverse=True,
    )
)

_STOPWORD_TEXT = """
    a al algo algun alguna algunas alguno algunos ante antes aqui asi aun aunque cada como con
    contra cual cuales cuando de del desde donde dos el ella ellas ellos en entre era eres es esa
    ese eso esta estan estas este esto estoy fue fui ha hace hacer han has hay he hola la las le
    les lo los mas me mi mis mucho muy nada ni no nos nosotros o os otra otro para pero poco por
    porque puede pueden puedo que quiero se sea ser si sin sobre son soy su sus tambien te tengo
    tiene tienen ti tu tus un una uno unos unas usted ustedes vez y ya yo favor gracias buenas buenos
    dias tardes noches ayuda ayudar necesito pasa pasando problema saludos hoy ahora quiero
    quisiera puedo podria tengo hago veo sale da dan sigue siguen cada vez ya todavia
    a about after again all am an and any are as at be been before being but by can could did do
    does doing don for from get got had has have having hello hi how i if in into is it its just me
    my no not now of on or our out please so some than thanks thank that the their them then there
    these they this to too up us very was we were what when where which while who why will with
    would you your help need problem issue hey today want wanted use keep keeps still see
    every time anymore also already
"""
#: Words of Spanish and English that say nothing about the topic (folded: no accents).
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def stem(word: str) -> str:
    """A folded word's stem: one known ending removed (keeping 3 letters), then at most STEM_LENGTH letters."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    return word[:STEM_LENGTH]


def stems(text: str) -> list[str]:
    """The stems of ``text``'s meaningful words, in order (function words and single letters dropped)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]


@dataclass(frozen=True, slots=True)
class Article:
    """A knowledge-base article as the matcher reads it."""

    id: int
    title: str
    body: str
    language: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """The best article for a question, its score, the runner-up's, and the covered share per word."""

    article: Article
    score: float
    runner_up: float
    #: (question stem, its weight, covered by the article), in the question's order.
    weights: tuple[tuple[str, float, bool], ...]

    def explain(self) -> str:
        covered = ", ".join(f"{s} ({w:.1f})" for s, w, hit in self.weights if hit) or "nothing"
        missing = ", ".join(f"{s} ({w:.1f})" for s, w, hit in self.weights if not hit) or "nothing"
        return (
            f"article {self.article.id} covers {self.score:.0%} of the question's weight "
            f"(runner-up {self.runner_up:.0%}); covered: {covered}; not covered: {missing}"
        )


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """When a match is confident enough to answer with."""

    #: The least share of the question's weight the article must cover.
    threshold: float = 0.5
    #: How far ahead of the runner-up it must be.
    margin: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1 or not 0 <= self.margin < 1:
            raise ValueError("threshold must be in (0, 1] and margin in [0, 1)")

    def confident(self, match: Match | None) -> bool:
        return match is not None and match.score >= self.threshold and match.score - match.runner_up >= self.margin


class Matcher:
    """An index over a knowledge base's articles, built once, asked many times (pure, thread-safe once built)."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.articles: tuple[Article, ...] = tuple(articles)
        self._vocabulary: list[frozenset[str]] = [
            frozenset(stems(" ".join((a.title, a.body, *a.tags)))) for a in self.articles
        ]
        frequency: dict[str, int] = {}
        for vocabulary in self._vocabulary:
            for s in vocabulary:
                frequency[s] = frequency.get(s, 0) + 1
        count = len(self.articles)
        self._idf = {s: math.log((count + 1) / df) for s, df in frequency.items()}
        # A word no article uses weighs half as much as the rarest one: it says the question
        # is about something else, or only how the asker phrases it.
        self._unknown_weight = math.log(count + 1) / 2 if count else 1.0

    def weight(self, question_stem: str) -> float:
        return self._idf.get(question_stem, self._unknown_weight)

    def ranked(self, question: str, language: str | None = None) -> list[Match]:
        """Every article (of ``language`` if given) with its score, best first; empty if nothing meaningful was asked.

        Each entry's ``runner_up`` is the next entry's score (0 for the last).
        """
        asked = list(dict.fromkeys(stems(question)))
        if not asked:
            return []
        weights = [(s, self.weight(s)) for s in asked]
        total = sum(w for _s, w in weights)
        scored = sorted(
            (
                (sum(w for s, w in weights if s in vocabulary) / total, article, vocabulary)
                for article, vocabulary in zip(self.articles, self._vocabulary, strict=True)
                if language is None or article.language == language
            ),
            key=lambda entry: (-entry[0], entry[1].id),
        )
        return [
            Match(
                article=article,
                score=score,
                runner_up=scored[rank + 1][0] if rank + 1 < len(scored) else 0.0,
                weights=tuple((s, w, s in vocabulary) for s, w in weights),
            )
            for rank, (score, article, vocabulary) in enumerate(scored)
        ]

    def best(self, question: str, language: str | None = None) -> Match | None:
        """The best-scoring article (of ``language`` if given), or ``None`` if the question has no meaningful word."""
        ranked = self.ranked(question, language)
        return ranked[0] if ranked else None
