"""A caller's bad value never comes back or reaches the logs; an expected error is one log line.

On real RabbitMQ and PostgreSQL, with grid_events: a name and ID number typed
into a code field, and a 1 MB value, are refused with a short message that
names the field; the canary is in no answer and no log line (structlog or
the standard library, where nameko logs), and the refusal is logged once,
without a traceback.
"""

import logging

import pytest
import structlog
from structlog.testing import capture_logs

from services.grid_events.service import GridEventsService
from shared.errors import ValidationFailed
from shared.logs import configure_logging
from tests.polling import wait_until

pytestmark = pytest.mark.integration

CANARY = "Long Mei 433101199001010012 canary-3c9a"


@pytest.fixture
def grid_events(pg_url, container_factory, service_config):
    container = container_factory(GridEventsService, service_config)
    container.start()
    return container


def wait_for_refusal(logs):
    """The worker logs its outcome after the answer is sent: wait for that line, bounded."""
    wait_until(lambda: any(entry["event"] == "refused" for entry in logs), 10, "the refusal logged")


def test_code_field_with_a_name_and_id_number_is_refused_without_echo(grid_events, rpc_as, caplog):
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        with rpc_as() as rpc, pytest.raises(ValidationFailed) as refused:
            rpc.grid_events.register_jurisdiction(code=CANARY, name="unit")
        wait_for_refusal(logs)
    assert "code" in refused.value.message
    assert "canary" not in repr(refused.value.args) and "433101199001010012" not in repr(refused.value.args)
    assert "canary" not in repr(logs) and "canary" not in caplog.text
    assert [entry["error"] for entry in logs if entry["event"] == "refused"] == ["ValidationFailed"]


def test_huge_value_is_refused_with_a_short_answer_and_no_log_of_it(grid_events, rpc_as, caplog):
    huge = "canary-" + "y" * 1_000_000
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        with rpc_as() as rpc, pytest.raises(ValidationFailed) as refused:
            rpc.grid_events.register_jurisdiction(code=huge, name=huge)
        wait_for_refusal(logs)
    assert len(repr(refused.value.args)) < 5_000
    assert "canary-" not in repr(refused.value.args)
    assert "canary-" not in repr(logs) and "canary-" not in caplog.text


@pytest.fixture
def console_logs(monkeypatch):
    """configure_logging("console") for one test, undone after: loggers are not cached against
    this test's captured stderr, and the root logger gets its handlers and level back."""
    configure = structlog.configure
    monkeypatch.setattr(structlog, "configure", lambda **kw: configure(**{**kw, "cache_logger_on_first_use": False}))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield lambda: configure_logging("console", "INFO")
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_expected_error_logs_one_line_without_traceback(grid_events, rpc_as, capfd, console_logs):
    console_logs()
    capfd.readouterr()
    with rpc_as() as rpc, pytest.raises(ValidationFailed):
        rpc.grid_events.register_jurisdiction(code=CANARY, name="unit")
    # The worker logs its outcome after the answer is sent: wait for the line, bounded.
    captured: list[str] = []

    def refusal_logged() -> bool:
        captured.append(capfd.readouterr().err)
        return "ValidationFailed" in "".join(captured)

    wait_until(refusal_logged, 10, "the refusal logged")
    err = "".join(captured)
    grid_events.stop()  # every worker done: nothing more can be logged about the call
    err += capfd.readouterr().err
    refused = [line for line in err.splitlines() if "ValidationFailed" in line]
    assert len(refused) == 1 and "refused" in refused[0]
    assert "Traceback" not in err and "canary" not in err and "locals" not in err.lower()
