"""The schedule of `watch`: cron lines checked where they enter, ticks found in UTC."""

from datetime import datetime, timezone

import pytest

from wheelworks.ci.watch import seconds_to_next_tick, validate_schedule
from wheelworks.shared.errors import ConfigError


def test_the_next_tick_is_in_utc():
    now = datetime(2026, 12, 2, 2, 59, 30, tzinfo=timezone.utc).timestamp()
    assert seconds_to_next_tick("0 3 * * *", now) == 30.0
    assert seconds_to_next_tick("0 3 * * *", now + 31) == 24 * 3600 - 1


@pytest.mark.parametrize("line", ["0 3 * *", "61 3 * * *", "@daily; rm -rf /", "0 3 * * * *"])
def test_a_bad_cron_line_is_one_error(line):
    with pytest.raises(ConfigError) as error:
        validate_schedule(line)
    assert "\n" not in str(error.value) and repr(line) in str(error.value)
