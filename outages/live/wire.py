"""autobahn (daphne's websocket layer) pretty-prints its forty settings for a
debug log line on every socket it opens, whether or not that line is ever
written: a fifth of the server's CPU in a storm of connects. quiet() makes
that text only when the line is written."""

import pprint

from autobahn.websocket import protocol


class _WhenWritten:
    """pformat(value), computed when the log line is formatted."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _timings_text(timings) -> str:
    return pprint.pformat(timings._timings)


def quiet() -> None:
    protocol.pformat = _WhenWritten
    # The module's one other use of pformat must still return text.
    protocol.Timings.__str__ = _timings_text
