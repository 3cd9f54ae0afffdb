"""Infrastructure failures are told from defects, however the libraries wrap them, and
consumers' backoff doubles within its bound (docs/reliability.md)."""

import amqp.exceptions
import psycopg2
import sqlalchemy.exc
from eventsourcing import persistence

from shared.errors import ServiceUnavailable
from shared.faults import BACKOFF_LIMIT, backoff_delay, is_infrastructure, unavailable


def wrapped(outer: type[Exception], inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as error:
            raise outer("wrapped") from error
    except Exception as error:
        return error


def test_database_connection_loss_is_infrastructure():
    lost = sqlalchemy.exc.OperationalError("SELECT secret FROM t WHERE x=%s", {"x": 1}, Exception("gone"))
    assert is_infrastructure(lost)
    assert is_infrastructure(wrapped(persistence.OperationalError, Exception("could not connect")))
    assert is_infrastructure(wrapped(RuntimeError, lost))


def test_database_refusal_raised_bare_by_the_driver_is_infrastructure():
    # A raw connection from the pool (the fast log reads) raises the driver's error unwrapped.
    assert is_infrastructure(psycopg2.OperationalError("connection refused"))
    assert is_infrastructure(psycopg2.InterfaceError("connection already closed"))
    assert not is_infrastructure(psycopg2.IntegrityError("duplicate key"))


def test_broker_connection_loss_is_infrastructure():
    assert is_infrastructure(amqp.exceptions.RecoverableConnectionError("closed"))
    assert is_infrastructure(ConnectionResetError())


def test_defect_is_not_infrastructure():
    assert not is_infrastructure(ValueError("bad"))
    assert not is_infrastructure(sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("dup")))


def test_unavailable_message_is_short_and_typed():
    error = unavailable("grid_events")
    assert isinstance(error, ServiceUnavailable) and error.code == "service_unavailable"
    assert "SELECT" not in error.message and "command_id" in error.message


def test_backoff_grows_and_stays_bounded():
    firsts = [backoff_delay(1) for _ in range(20)]
    later = [backoff_delay(4) for _ in range(20)]
    assert max(firsts) <= 0.5 < min(later)
    assert max(backoff_delay(50) for _ in range(20)) <= BACKOFF_LIMIT
