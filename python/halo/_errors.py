"""halo.Error: the library's diagnostic as a Python exception."""


class Error(ValueError):
    """A halo diagnostic (docs/design.md, "Error code ranges").

    ``str(e)`` is the message the ``halo`` CLI prints; the parts are attributes:
    ``code`` ("E6003"), ``kind`` ("bad_input", "usage" or "internal"), ``file``, ``line``,
    ``place`` (a tensor, key or option name), ``message``, ``expected``, ``found``, ``hint``.
    ``exit_code`` is the CLI's exit code for the same error (1 usage, 2 bad input, 3 internal).
    """

    _EXIT_CODES = {"usage": 1, "bad_input": 2, "internal": 3}

    def __init__(self, rendered, *, code="", kind="bad_input", file="", line=0, place="", message="",
                 expected="", found="", hint=""):
        super().__init__(rendered)
        self.code = code
        self.kind = kind
        self.file = file
        self.line = line
        self.place = place
        self.message = message or rendered
        self.expected = expected
        self.found = found
        self.hint = hint

    @property
    def exit_code(self):
        return self._EXIT_CODES.get(self.kind, 3)


def python_error(code, place, message, expected="", found="", hint="", kind="bad_input"):
    """An Error raised by the Python layer itself, rendered the way the C++ diagnostics are."""
    text = f"error {code}: {place}: {message}" if place else f"error {code}: {message}"
    if expected or found:
        text += " (" + ", ".join(p for p in (expected and f"expected {expected}", found and f"found {found}") if p) + ")"
    if hint:
        text += f"; hint: {hint}"
    return Error(text, code=code, kind=kind, place=place, message=message, expected=expected, found=found,
                 hint=hint)
