"""autobahn's per-connect debug text is made only when its log line is written."""

import pprint

from autobahn.websocket import protocol

import outages.live.consumers  # noqa: F401  (the websocket routes load it, and with it wire.quiet())


def test_the_settings_text_is_not_made_at_connect_but_reads_the_same_when_logged():
    settings = [("openHandshakeTimeout", 5, "WebSocketServerFactory"), ("autoPingInterval", 20, "Factory")]
    deferred = protocol.pformat(settings)
    assert not isinstance(deferred, str)
    assert f"\n{deferred}" == "\n" + pprint.pformat(settings)
    assert "{attrs}".format_map({"attrs": deferred}) == pprint.pformat(settings)  # as the log formats it


def test_timings_still_print_as_text():
    timings = protocol.Timings()
    timings.track("onOpen")
    assert str(timings) == pprint.pformat(timings._timings)
    assert "onOpen" in str(timings)
