"""Keyword options -> the C++ option structs, by name: an unknown option or a value of the wrong
type raises halo.Error naming it (never silently ignored)."""

import os

from ._errors import python_error


def _option_names(options):
    return sorted(n for n in dir(options) if not n.startswith("_") and not callable(getattr(options, n)))


def fill(options, function, kwargs):
    """Sets each keyword on `options` (a bound C++ struct); None leaves the default."""
    names = _option_names(options)
    for key, value in kwargs.items():
        if key not in names:
            raise python_error("E0091", key, f"{function}() has no option {key!r}", "one of " + ", ".join(names),
                               key, kind="usage")
        if value is None:
            continue
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif isinstance(value, (list, tuple)):
            value = [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
        try:
            setattr(options, key, value)
        except TypeError:  # a halo.Error from a checking setter (analysis=...) passes through
            expected = type(getattr(options, key)).__name__
            raise python_error("E0092", key, f"{function}() option {key!r} has the wrong type", expected,
                               f"{type(value).__name__} {value!r}", kind="usage") from None
    return options
