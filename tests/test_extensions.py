"""The store-extension registry: lookup by protocol along the store's class hierarchy."""

from __future__ import annotations

from typing import Protocol

import pytest

from supportchat.errors import ExtensionUnavailable
from supportchat.extensions import extension, register_extension, registered_extensions


class Counter(Protocol):
    def count(self) -> int: ...


class Base:
    pass


class Child(Base):
    pass


class Other:
    pass


class BaseCounter:
    def __init__(self, store: Base) -> None:
        self.store = store

    def count(self) -> int:
        return 1


def test_a_subclass_inherits_its_parents_extension_and_each_store_gets_one_instance() -> None:
    register_extension(Counter, Base, BaseCounter)
    first, second = Child(), Child()
    assert isinstance(extension(first, Counter), BaseCounter)
    assert extension(first, Counter) is extension(first, Counter)
    assert extension(first, Counter) is not extension(second, Counter)
    assert extension(first, Counter).store is first  # type: ignore[attr-defined]
    assert Base in registered_extensions(Counter)


def test_a_store_without_an_implementation_is_a_configuration_error() -> None:
    class Unregistered(Protocol):
        def nothing(self) -> None: ...

    with pytest.raises(ExtensionUnavailable, match="Other has no Unregistered extension"):
        extension(Other(), Unregistered)


def test_a_nearer_registration_wins_over_the_parents() -> None:
    class Nearer(Protocol):
        def count(self) -> int: ...

    class ChildCounter(BaseCounter):
        def count(self) -> int:
            return 2

    register_extension(Nearer, Base, BaseCounter)
    register_extension(Nearer, Child, ChildCounter)
    assert extension(Child(), Nearer).count() == 2
    assert extension(Base(), Nearer).count() == 1
