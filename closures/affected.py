"""What a closure affects. A closure keeps whatever it overlaps and reports it to whoever
closes; the apps that hold time (appointments) register a finder from their
``AppConfig.ready()``, so closures names none of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from closures.models import Closure

AffectedFinder = Callable[[Closure], Sequence[Any]]

_finders: list[AffectedFinder] = []


def register_affected_finder(finder: AffectedFinder) -> None:
    """Report what ``finder`` finds inside each closure (registering twice is a no-op)."""
    if finder not in _finders:
        _finders.append(finder)


def affected_by(closure: Closure) -> list[Any]:
    """Everything open the registered finders find inside ``closure``, in their order."""
    return [item for finder in _finders for item in finder(closure)]
