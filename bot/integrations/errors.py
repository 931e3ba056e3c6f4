"""What a parser raises for a body it cannot read as a notification."""

from __future__ import annotations


class PayloadError(ValueError):
    """A webhook body that is not a notification of its source.

    `field` is the path of the value at fault (`version`, `alerts[2].labels`), and
    `str(err)` reads `<field>: <what was expected>`, so the sender's operator can fix
    the receiver's config or template without seeing firebell's code.
    """

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected
