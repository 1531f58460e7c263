"""The boundary into compiled code: named records built by field name, and direct calls.

The monthly processes run as numba-compiled kernels. What crosses into them is a handful
of typed records (``typing.NamedTuple``, which numba compiles with fields of mixed
types): the groups' arrays (:class:`netsim.state.StateArrays`), the tie buffers
(:class:`netsim.ties.TieBuffers`) and each process's parameters (``ForumKernel`` in
``forum.py``, ...). A kernel reads ``p.tie_gain``, never the tenth argument, so a swapped
or unwired value cannot pass silently.

:func:`record` builds a parameter record from a schema section by field name: each field
of the record is the section's value of the same name (or one of the named ``derived``
values, such as a choice's code), cast to the field's type. A record field that the
section does not have, and is not derived, is an error, so a renamed parameter fails at
once rather than leaving a kernel reading a stale value.

:class:`Direct` calls a compiled function without numba's per-call type dispatch, which
for nested records of arrays costs more than a month of the 54-group model itself.
"""

from __future__ import annotations

import typing
from typing import Any

import numba

__all__ = ["Direct", "record"]

_CAST = {float: float, int: int, bool: bool}


def record(cls: type, section: Any, **derived: Any) -> Any:
    """The record ``cls`` (a ``NamedTuple``) with each field taken from ``section`` by name.

    Args:
        cls: The record type; its fields are annotated ``float``, ``int`` or ``bool``.
        section: A schema section (or any object with the fields as attributes).
        **derived: Values computed from the section for fields it does not hold by that
            name (a choice's integer code, a flag).

    Raises:
        TypeError: A field is neither in ``section`` nor derived, or a derived value names
            no field.
    """
    hints = typing.get_type_hints(cls)
    unknown = set(derived) - set(hints)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    values = {}
    for name, kind in hints.items():
        if name in derived:
            value = derived[name]
        elif hasattr(section, name):
            value = getattr(section, name)
        else:
            raise TypeError(f"{cls.__name__}.{name}: not a parameter of {type(section).__name__} "
                            "and not derived")
        values[name] = _CAST[kind](value) if kind in _CAST else value
    return cls(**values)


class Direct:
    """A compiled function called straight at its one compiled version.

    The first call goes through numba's dispatcher (compiling or loading the cached
    version for the argument types); later calls go to that version's entry point,
    skipping the dispatcher's type inspection of every argument. That is only sound when
    every call passes the same types, which the callers guarantee by construction: the
    state's arrays have fixed dtypes (:class:`netsim.state.GroupState` coerces them),
    parameter records are built by :func:`record`, which casts each field.

    Args:
        dispatcher: A ``numba.njit`` function.
    """

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher
        self._entry: Any = None
        self.signature: tuple | None = None

    def __call__(self, *args: Any) -> Any:
        """Call the compiled function."""
        if self._entry is not None:
            return self._entry(*args)
        result = self.dispatcher(*args)
        self.signature = tuple(numba.typeof(a) for a in args)
        compiled = self.dispatcher.overloads.get(self.signature)
        if compiled is not None:
            self._entry = compiled.entry_point
        return result
