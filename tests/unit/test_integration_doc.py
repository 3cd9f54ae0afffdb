"""docs/integration.md's error table names every error type pingan raises, with whether a retry is safe."""

import re
from pathlib import Path

import services.gateway.contracts  # noqa: F401  (imports register their error types)
import shared.clients  # noqa: F401
import shared.reliable  # noqa: F401
import shared.security.audit_log  # noqa: F401
import shared.security.chain  # noqa: F401
from shared.errors import PinganError
from shared.registry import service_classes

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


def error_types() -> list[type[PinganError]]:
    service_classes()  # every service's modules, and the errors they define

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return sorted(set(walk(PinganError)), key=lambda cls: cls.__name__)


def table() -> dict[str, tuple[str, str, int]]:
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \| [^|]+ \| ([^|]+) \| (\d{3}) \|$", DOC.read_text(), re.M)
    return {name: (code, retry.strip(), int(status)) for name, code, retry, status in rows}


def test_every_error_type_is_in_the_integration_error_table_with_its_retryability():
    documented = table()
    wrong = [cls.__name__ for cls in error_types()
             if cls.__name__ not in documented
             or documented[cls.__name__][0] != cls.code
             or documented[cls.__name__][1].startswith("yes") != cls.retryable]
    assert wrong == []


def test_every_error_type_has_its_code_and_documented_http_status_in_the_gateway():
    from services.gateway.problems import STATUSES

    documented = table()
    wrong = [cls.__name__ for cls in error_types()
             if cls.__name__ not in STATUSES or cls.__name__ not in documented
             or documented[cls.__name__][2] != STATUSES[cls.__name__].status
             or STATUSES[cls.__name__].code != cls.code]
    assert wrong == []


def test_every_retryable_error_type_answers_503_over_http():
    from services.gateway.problems import RETRYABLE_STATUSES, STATUSES

    assert [cls.__name__ for cls in error_types()
            if cls.retryable != (STATUSES[cls.__name__].status in RETRYABLE_STATUSES)] == []
