"""Store extensions: how a capability reaches its own tables through any store.

The :class:`~supportchat.store.Store` protocol covers tickets, messages,
changes and the event log, and stays that size. A capability with tables of
its own (jobs, agents, attachments, SLA clocks…) declares a protocol for them
(its *extension*), implements it once per kind of store, and registers each
implementation against the store class it works on::

    register_extension(JobStore, SQLStore, SQLJobStore)
    register_extension(JobStore, InMemoryStore, MemoryJobStore)

Code that needs the capability asks for it by protocol::

    jobs = extension(desk.store, JobStore)

The lookup follows the store class's method resolution order, so a subclass
(``SQLiteStore`` of ``SQLStore``) inherits its parent's registration, and a
wrapping store (the fallback store) registers a factory of its own that
decides where the extension's rows live. Each store instance gets one
extension object per protocol, made on first use and kept as long as the
store.

This module is part of the core: it imports no backend. Backends register
their implementations when the capability's package is imported.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from .errors import ExtensionUnavailable

__all__ = ["ExtensionUnavailable", "extension", "register_extension", "registered_extensions"]

E = TypeVar("E")

_factories: dict[tuple[type[Any], type[Any]], Callable[[Any], Any]] = {}
_instances: weakref.WeakKeyDictionary[Any, dict[type[Any], Any]] = weakref.WeakKeyDictionary()
_lock = threading.RLock()


def register_extension(protocol: type[E], store_type: type[Any], factory: Callable[[Any], E]) -> None:
    """Make ``factory(store)`` the implementation of ``protocol`` for stores of ``store_type``.

    Registering the same pair again replaces the factory (a host may swap in
    its own implementation); instances already made stay as they are.
    """
    with _lock:
        _factories[(protocol, store_type)] = factory


def registered_extensions(protocol: type[Any]) -> dict[type[Any], Callable[[Any], Any]]:
    """The store classes with an implementation of ``protocol``, and their factories."""
    with _lock:
        return {store_type: f for (p, store_type), f in _factories.items() if p is protocol}


def extension(store: object, protocol: type[E]) -> E:
    """The ``protocol`` extension of ``store``, made on first use and then reused.

    Raises :class:`ExtensionUnavailable` when no class in ``type(store)``'s
    method resolution order has a registered implementation.
    """
    with _lock:
        made = _instances.setdefault(store, {})
        if protocol in made:
            return cast(E, made[protocol])
        for klass in type(store).__mro__:
            factory = _factories.get((protocol, klass))
            if factory is not None:
                made[protocol] = instance = factory(store)
                return cast(E, instance)
    raise ExtensionUnavailable(f"{type(store).__name__} has no {protocol.__name__} extension")
