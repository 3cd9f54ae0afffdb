"""How the gateway answers refusals: RFC 9457 problems with the catalogue's statuses, whatever
form the error reached it in (a typed error, nameko's RemoteError, no such service, a bug)."""

import json

from nameko.exceptions import RemoteError, UnknownService

from services.gateway.problems import from_exception
from shared.errors import Conflict, ServiceUnavailable, ValidationFailed


def body(response):
    return response.status_code, response.headers["Content-Type"], json.loads(response.get_data(as_text=True))


def test_gateway_problem_of_typed_error_carries_code_and_type():
    status, media, problem = body(from_exception(Conflict("the command id was used for other arguments")))
    assert (status, media) == (409, "application/problem+json")
    assert problem == {"type": "urn:pingan:problem:conflict", "title": "Conflicts with what is stored",
                       "status": 409, "detail": "the command id was used for other arguments", "code": "conflict"}


def test_gateway_problem_of_validation_lists_fields():
    error = ValidationFailed("ReportEvent: place: too long", [{"field": "place", "problem": "too long"}])
    assert body(from_exception(error))[2]["errors"] == [{"field": "place", "problem": "too long"}]


def test_gateway_problem_of_unavailable_service_says_when_to_retry():
    response = from_exception(ServiceUnavailable("the database is out of reach"))
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")


def test_gateway_problem_of_remote_error_maps_by_exc_type():
    status, _, problem = body(from_exception(RemoteError("PersonalDataUnavailable", "sealed data cannot be opened")))
    assert (status, problem["code"]) == (500, "personal_data_unavailable")


def test_gateway_problem_of_unknown_service_is_503():
    response = from_exception(UnknownService("mediation"))
    assert (response.status_code, json.loads(response.get_data())["code"]) == (503, "service_unavailable")


def test_gateway_problem_of_a_bug_is_500_without_its_text():
    status, _, problem = body(from_exception(KeyError("SELECT secret FROM people")))
    assert status == 500 and "SELECT" not in json.dumps(problem) and problem["code"] == "internal"


def test_gateway_problem_of_unknown_remote_type_is_500_without_its_text():
    status, _, problem = body(from_exception(RemoteError("OperationalError", "SELECT * FROM people WHERE id=1")))
    assert status == 500 and "SELECT" not in json.dumps(problem)
