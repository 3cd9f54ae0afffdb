"""The polling helper every tier waits with: it returns what it waited for, and gives up, bounded."""

import pytest

from tests.polling import NotReached, wait_until


def test_wait_until_returns_the_first_truthy_value():
    answers = iter([None, 0, [], "ready"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_wait_until_gives_up_naming_what_it_waited_for():
    with pytest.raises(NotReached, match="the relay to catch up"):
        wait_until(lambda: False, timeout=0, what="the relay to catch up")


def test_wait_until_treats_ignored_errors_as_not_yet():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError
        return True

    assert wait_until(flaky, timeout=5, interval=0, ignoring=(ConnectionRefusedError,)) is True


def test_wait_until_lets_other_errors_through():
    with pytest.raises(KeyError):
        wait_until(lambda: {}["missing"], timeout=5, ignoring=(OSError,))
