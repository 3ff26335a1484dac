"""Full-text search (spec §13) on every backend: one fixed corpus, one oracle, the same answers.

The oracle is :mod:`supportchat.search`'s reference matcher over the corpus
as written. Every backend counts relevance the same way (how many of a
ticket's sources hold a query word), so each must give the same tickets in
the same order (number first, relevance, newest first) and the same exact
``total``; past the newest ``SEARCH_LIMIT`` matches, the older ones follow
newest first, so paging lists every match once.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from supportchat import search as search_rules
from supportchat.models import Category, NewMessage, Priority, SenderType, TicketQuery, TicketStatus
from supportchat.search import MARK_END, MARK_START, fold, matches, parse_search, relevance
from supportchat.stores import Store

from .test_store_contract import T0, new_message, new_ticket

_SUBJECTS_ES = [
    "Reembolsó pendiente del vuelo",
    "No puedo iniciar sesión",
    "Cambio de fecha de la reserva",
    "Cobro duplicado en la tarjeta",
    "El pedido llegó dañado",
    "Equipaje perdido en la conexión",
    "Factura con el importe equivocado",
    "La aplicación se cierra al abrir",
]
_SUBJECTS_EN = [
    "Refund for cancelled flight",
    "Cannot log in to my account",
    "Charged twice for the same order",
    "Package arrived damaged",
    "Lost baggage after connection",
    "Invoice shows the wrong amount",
    "App crashes on startup",
    "Change the date of my booking",
]
_PHRASES = [
    "necesito ayuda urgente con mi reembolso",
    "el número de confirmación no aparece",
    "please help me with the refund of my ticket",
    "the payment was declined but the money left my account",
    "mi maleta no apareció en la cinta",
    "la contraseña nueva no funciona",
    "tracking number shows delivered but nothing arrived",
    "quiero cancelar la suscripción anual",
    "the agent promised a callback yesterday",
    "pagué con PayPal y no recibí la confirmación",
    "árbol de decisión para la garantía",
    "ÉXITO parcial: el cargo se revirtió",
    "what does this error code mean",
    "devolución del dinero en la tarjeta de crédito",
]
#: Forty-plus queries: words, prefixes, accents, case, pairs, nonsense, and query syntax.
QUERIES = [
    "reembolso",
    "Reembolsó",
    "REEMBOLSO",
    "reemb",
    "refund",
    "refunds",
    "REF",
    "vuelo",
    "flight",
    "vuelo reembolso",
    "refund flight",
    "sesion",
    "sesión",
    "log",
    "cobro tarjeta",
    "charged twice",
    "pedido dañado",
    "danado",
    "package",
    "equipaje",
    "baggage",
    "factura",
    "invoice amount",
    "aplicacion",
    "app crashes",
    "reserva",
    "booking",
    "ayuda urgente",
    "confirmacion",
    "confirmación paypal",
    "contraseña",
    "contrasena",
    "tracking",
    "suscripción",
    "callback",
    "arbol",
    "exito",
    "devolucion credito",
    "xylophone",
    "zzz",
    "a",
    "la",
    '"',
    "*",
    "NEAR(a b)",
    "-refund",
    "refund OR vuelo",
    "ref*",
    "^flight",
    "col:refund",
    "it's",
    "100%",
    "d_n",
    "(",
    "'; DROP TABLE support_tickets; --",
    "&|!:*",
]
_TICKETS = 200


def _corpus(store: Store) -> dict[int, list[str]]:
    """Write the corpus (200 tickets, a few messages each, some of user 2); each ticket's texts."""
    chance = random.Random(13)
    texts: dict[int, list[str]] = {}
    for index in range(_TICKETS):
        subject = chance.choice(_SUBJECTS_ES + _SUBJECTS_EN)
        description = " ".join(chance.sample(_PHRASES, 2))
        ticket = store.insert_ticket(
            new_ticket(
                f"TKT-{index:08d}",
                user_id=2 if index % 5 == 0 else 1,
                subject=subject,
                description=description,
                priority=list(Priority)[index % 4],
                category=list(Category)[index % 5],
                created_at=T0 + timedelta(minutes=index),
                updated_at=T0 + timedelta(minutes=index),
            )
        )
        texts[ticket.id] = [f"{subject} {description}"]
        version = ticket.version
        for position in range(index % 3):
            body = chance.choice(_PHRASES)
            store.insert_message(
                new_message(ticket.id, f"m{index}-{position}", message=body),
                expected_version=version,
                changes={},
            )
            version += 1
            texts[ticket.id].append(body)
    return texts


def _expected(texts: dict[int, list[str]], q: str, allowed: set[int] | None = None) -> set[int]:
    terms = parse_search(q).terms
    return {
        t for t, sources in texts.items() if terms and matches(sources, terms) and (allowed is None or t in allowed)
    }


def _ranked(store: Store, texts: dict[int, list[str]], q: str, limit: int = 10**9) -> list[int]:
    """The oracle's order: every text match and any ticket ``q`` names; the newest ``limit`` matches ranked."""
    search = parse_search(q)
    found = sorted(_expected(texts, q), reverse=True)
    newest = set(found[:limit])
    named = set()
    for number in search.numbers:
        ticket = store.get_ticket_by_number(number)
        if ticket is not None:
            named.add(ticket.id)
    return sorted(
        set(found) | named,
        key=lambda t: (
            t not in named and t not in newest,
            t not in named,
            -relevance(texts[t], search.terms) if t in newest else 0,
            -t,
        ),
    )


def _search(store: Store, q: str, **filters: object) -> tuple[list[int], int]:
    items, total = store.list_tickets(TicketQuery(q=q, per_page=1000, **filters))  # type: ignore[arg-type]
    for ticket in items:
        assert ticket.highlight is None or MARK_START in ticket.highlight, (q, ticket.highlight)
    return [t.id for t in items], total


def test_every_backend_finds_what_the_reference_finds(store: Store) -> None:
    texts = _corpus(store)
    assert len(QUERIES) >= 40
    for q in QUERIES:
        ids, total = _search(store, q)
        expected = _expected(texts, q)
        assert set(ids) == expected, q
        assert total == len(expected) == len(ids), q
        assert ids == _ranked(store, texts, q), q  # the same order on every backend
    # The oracle itself is right on the cases that define the feature.
    assert _expected(texts, "reembolso") == _expected(texts, "REEMBOLSÓ") != set()
    assert _expected(texts, "reemb") >= _expected(texts, "reembolso")
    assert _expected(texts, "xylophone") == set()


def test_past_the_limit_older_matches_follow_and_total_is_exact(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _corpus(store)
    monkeypatch.setattr(search_rules, "SEARCH_LIMIT", 7)
    for q in ("refund", "reembolso", "la", "vuelo reembolso", "xylophone"):
        ids, total = _search(store, q)
        expected = _expected(texts, q)
        assert ids == _ranked(store, texts, q, limit=7), q
        assert total == len(ids) == len(expected), q
        # Every page, each match once: exactly ``total`` tickets in all, in the one order.
        for per_page in (3, 7, 10):
            paged: list[int] = []
            for page in range(1, len(expected) // per_page + 3):
                items, page_total = store.list_tickets(TicketQuery(q=q, page=page, per_page=per_page))
                assert page_total == total, (q, page)
                paged += [t.id for t in items]
            assert paged == ids and len(set(paged)) == total, (q, per_page)
    assert len(_expected(texts, "la")) > 7  # the window is really exceeded
    # Filters apply before the window: the seven newest billing matches are ranked, every one counted.
    billing = {t.id for t in store.list_tickets(TicketQuery(category=Category.BILLING, per_page=1000))[0]}
    ids, total = _search(store, "la", category=Category.BILLING)
    expected = _expected(texts, "la", billing)
    assert set(ids) == expected and total == len(expected)
    assert set(ids[:7]) == set(sorted(expected, reverse=True)[:7])
    assert ids[7:] == sorted(expected, reverse=True)[7:]


def test_pages_split_the_same_results_and_total(store: Store) -> None:
    texts = _corpus(store)
    expected = _expected(texts, "refund")
    seen: list[int] = []
    for page in range(1, 20):
        items, total = store.list_tickets(TicketQuery(q="refund", page=page, per_page=7))
        assert total == len(expected)
        seen += [t.id for t in items]
        if not items:
            break
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


def test_filters_narrow_a_search(store: Store) -> None:
    texts = _corpus(store)
    billing = {t.id for t in store.list_tickets(TicketQuery(category=Category.BILLING, per_page=1000))[0]}
    ids, total = _search(store, "tarjeta", category=Category.BILLING)
    assert set(ids) == _expected(texts, "tarjeta", billing) and total == len(ids)
    urgent = {t.id for t in store.list_tickets(TicketQuery(priority=Priority.URGENT, per_page=1000))[0]}
    ids, total = _search(store, "refund", priority=Priority.URGENT, status=TicketStatus.OPEN)
    assert set(ids) == _expected(texts, "refund", urgent) and total == len(ids)


def test_a_users_search_never_returns_or_counts_another_users_ticket(store: Store) -> None:
    texts = _corpus(store)
    own = {t.id for t in store.list_tickets(TicketQuery(user_id=2, per_page=1000))[0]}
    for q in ("reembolso", "refund", "tarjeta", "TKT-00000001", "la"):
        ids, total = _search(store, q, user_id=2)
        everyone = _expected(texts, q)
        assert set(ids) <= own and set(ids) == _expected(texts, q, own), q
        assert total == len(ids), q
        assert len(everyone) > total or not everyone - own, q  # the words match elsewhere too
    # Another user's ticket named by its number stays invisible, and uncounted.
    assert _search(store, "TKT-00000001", user_id=2) == ([], 0)


@pytest.mark.parametrize("spelling", ["TKT-00000042", "tkt-00000042", "TKT-OOOOOO42", "tkt-oooooo42"])
def test_a_ticket_number_in_any_accepted_form_comes_first(store: Store, spelling: str) -> None:
    texts = _corpus(store)
    target = store.get_ticket_by_number("TKT-00000042")
    assert target is not None
    # A message of another ticket mentions the number: it is found too, after.
    other = next(t for t in texts if t != target.id)
    store.insert_message(
        NewMessage(
            ticket_id=other,
            sender_id=1,
            sender_type=SenderType.USER,
            message="see TKT-00000042 for the same refund",
            message_type="text",  # type: ignore[arg-type]
            file_url=None,
            created_at=T0,
            uid="mention",
        ),
        expected_version=store.get_ticket(other).version,  # type: ignore[union-attr]
        changes={},
    )
    items, total = store.list_tickets(TicketQuery(q=spelling))
    assert items[0].id == target.id
    assert items[0].highlight == f"{MARK_START}TKT-00000042{MARK_END}"
    if spelling.upper() == "TKT-00000042":
        assert other in [t.id for t in items] and total == 2


def test_accents_case_and_prefixes_fold_the_same_way(store: Store) -> None:
    one = store.insert_ticket(new_ticket("TKT-00000001", subject="Reembolsó del vuelo", description="Ñandú"))
    two = store.insert_ticket(new_ticket("TKT-00000002", subject="reembolso", description="ÁRBOL"))
    for q, expected in [
        ("reembolso", {one.id, two.id}),
        ("REEMBOLSÓ", {one.id, two.id}),
        ("reem", {one.id, two.id}),
        ("nandu", {one.id}),
        ("arbol", {two.id}),
        ("reembolso vuelo", {one.id}),
        ("embolso", set()),  # prefixes of words, not substrings
    ]:
        ids, total = _search(store, q)
        assert (set(ids), total) == (expected, len(expected)), q


def test_words_may_sit_in_different_messages_and_highlights_mark_them(store: Store) -> None:
    ticket = store.insert_ticket(new_ticket(subject="Problema", description="Sin más"))
    store.insert_message(
        new_message(ticket.id, "a", message="the parcel never came, 5 > 3 & 2"), expected_version=0, changes={}
    )
    store.insert_message(new_message(ticket.id, "b", message="still waiting for it"), expected_version=1, changes={})
    items, total = store.list_tickets(TicketQuery(q="parcel waiting"))
    assert [t.id for t in items] == [ticket.id] and total == 1
    (found,) = items
    assert found.highlight is not None
    marked = found.highlight.split(MARK_START)[1].split(MARK_END)[0]
    assert fold(marked) in ("parcel", "waiting")
    assert "parcel" in found.highlight or "waiting" in found.highlight


def test_query_syntax_is_only_words(store: Store) -> None:
    store.insert_ticket(new_ticket("TKT-00000001", subject="100% refund_now"))
    store.insert_ticket(new_ticket("TKT-00000002", subject="1000 refunds"))
    assert _search(store, "100%")[1] == 2  # the word prefix 100
    assert _search(store, "refund_now")[1] == 1  # refund AND now
    for q in ('"', "*", "NEAR(", "-", "a OR", "(((", "'", ":*", "\\", "^", "subject:refund", "&", "!"):
        ids, total = _search(store, q)
        assert total == len(ids)
