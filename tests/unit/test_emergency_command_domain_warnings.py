"""Warnings (Art. 6(4)): issue, update and cancel as a CAP message chain, and each message rendered
as a CAP 1.2 document checked against the rules of the standard that need no network: namespace,
required elements in the schema's order, enumerations, dateTime form and the references format."""

import re
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4
from xml.etree import ElementTree as ET

import pytest

from services.emergency_command.domain import CAP_NAMESPACE, EmergencyWarning, render_cap
from shared.errors import InvalidTransition, ValidationFailed

from .test_emergency_command_domain_support import NOW, acting, names_of

HOUR = timedelta(hours=1)
SENDER = "pingan.emergency.433100"
NS = {"cap": CAP_NAMESPACE}

# CAP 1.2 (OASIS Standard, 2010), section 3.2: element order of alert, info and area, and the
# elements each must have; section 3.3.2: the dateTime form.
ALERT_ORDER = ["identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction", "addresses",
               "code", "note", "references", "incidents", "info"]
INFO_ORDER = ["language", "category", "event", "responseType", "urgency", "severity", "certainty", "audience",
              "eventCode", "effective", "onset", "expires", "senderName", "headline", "description", "instruction",
              "web", "contact", "parameter", "resource", "area"]
AREA_ORDER = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]
ALERT_REQUIRED = {"identifier", "sender", "sent", "status", "msgType", "scope"}
INFO_REQUIRED = {"category", "event", "urgency", "severity", "certainty"}
ENUMS = {
    "status": {"Actual", "Exercise", "System", "Test", "Draft"},
    "msgType": {"Alert", "Update", "Cancel", "Ack", "Error"},
    "scope": {"Public", "Restricted", "Private"},
    "category": {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
                 "CBRNE", "Other"},
    "urgency": {"Immediate", "Expected", "Future", "Past", "Unknown"},
    "severity": {"Extreme", "Severe", "Moderate", "Minor", "Unknown"},
    "certainty": {"Observed", "Likely", "Possible", "Unlikely", "Unknown"},
}
CAP_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
CAP_TOKEN = re.compile(r"^[^\s,<&]+$")


def info(**changes) -> dict:
    return {"categories": ["Met", "Geo"], "event": "暴雨引发山洪", "urgency": "Expected", "severity": "Severe",
            "certainty": "Likely", "level": "orange", "effective": NOW, "expires": NOW + 12 * HOUR,
            "areas": ["433123", "433101"], "headline": "凤凰、吉首山洪橙色预警", **changes}


def issued(status="Actual", jurisdiction="433100", **changes) -> EmergencyWarning:
    with acting():
        return EmergencyWarning.issue(str(uuid4()), jurisdiction, SENDER, status, info(**changes), NOW)


def chain(status="Actual") -> EmergencyWarning:
    """Alert → Update → Cancel."""
    warning = issued(status)
    with acting():
        warning.update(info(urgency="Immediate", severity="Extreme", level="red", certainty="Observed"), NOW + HOUR)
        warning.cancel(NOW + 2 * HOUR)
    return warning


def refused(warning, error, command):
    before = len(names_of(warning))
    with acting(), pytest.raises(error):
        command()
    assert len(names_of(warning)) == before


def parsed(message) -> ET.Element:
    return ET.fromstring(render_cap(message).encode())


def local_names(element) -> list[str]:
    return [child.tag.split("}", 1)[1] for child in element]


def in_schema_order(names, order) -> bool:
    positions = [order.index(name) for name in names]
    return positions == sorted(positions)


# -- the chain -------------------------------------------------------------------------------


def test_update_references_every_earlier_message_previous_last():
    warning = issued()
    with acting():
        warning.update(info(), NOW + HOUR)
        update = warning.update(info(), NOW + 2 * HOUR)
    first, second = warning.messages[0], warning.messages[1]
    assert update["references"] == [f"{SENDER},{first['identifier']},{first['sent']}",
                                    f"{SENDER},{second['identifier']},{second['sent']}"]


def test_cancel_is_a_new_message_with_cancel_type():
    warning = chain()
    assert [m["msg_type"] for m in warning.messages] == ["Alert", "Update", "Cancel"]


def test_update_leaves_published_message_unchanged():
    warning = issued()
    published = dict(warning.messages[0])
    with acting():
        warning.update(info(headline="changed"), NOW + HOUR)
    assert warning.messages[0] == published


def test_update_of_cancelled_warning_refused():
    warning = chain()
    refused(warning, InvalidTransition, lambda: warning.update(info(), NOW + 3 * HOUR))


def test_cancel_of_cancelled_warning_refused():
    warning = chain()
    refused(warning, InvalidTransition, lambda: warning.cancel(NOW + 3 * HOUR))


def test_update_sent_before_previous_refused():
    warning = issued()
    refused(warning, ValidationFailed, lambda: warning.update(info(), NOW - HOUR))


def test_expiry_before_effective_refused():
    with pytest.raises(ValidationFailed):
        issued(expires=NOW - HOUR)


def test_update_with_expiry_before_effective_refused():
    warning = issued()
    refused(warning, ValidationFailed, lambda: warning.update(info(expires=NOW), NOW + HOUR))


def test_unknown_urgency_refused():
    with pytest.raises(ValidationFailed):
        issued(urgency="Soon")


def test_unknown_category_refused():
    with pytest.raises(ValidationFailed):
        issued(categories=["Weather"])


def test_status_other_than_actual_or_exercise_refused():
    with pytest.raises(ValidationFailed):
        issued(status="Test")


def test_level_and_severity_mismatch_refused():
    with pytest.raises(ValidationFailed):
        issued(level="blue", severity="Extreme")


def test_area_outside_issuer_jurisdiction_refused():
    with pytest.raises(ValidationFailed):
        issued(jurisdiction="433101", areas=["433123"])


def test_area_in_full_width_digits_refused():
    with pytest.raises(ValidationFailed):
        issued(areas=["４３３１０１"])


def test_sender_with_space_refused():
    with acting(), pytest.raises(ValidationFailed):
        EmergencyWarning.issue("ref", "433100", "emergency office", "Actual", info(), NOW)


def test_naive_effective_time_refused():
    with pytest.raises(ValidationFailed):
        issued(effective=datetime(2026, 12, 2, 9, 0))


def test_in_force_between_effective_and_expiry_until_cancelled():
    warning = issued()
    before = [warning.in_force(NOW - HOUR), warning.in_force(NOW + HOUR), warning.in_force(NOW + 13 * HOUR)]
    with acting():
        warning.cancel(NOW + 2 * HOUR)
    assert (before, warning.in_force(NOW + 3 * HOUR)) == ([False, True, False], False)


def test_issue_same_reference_same_warning_id():
    assert EmergencyWarning.create_id("cmd-7") == EmergencyWarning.create_id("cmd-7")


# -- CAP 1.2 rendering ---------------------------------------------------------------------------


def test_cap_root_is_alert_in_cap_namespace():
    assert parsed(issued().current).tag == f"{{{CAP_NAMESPACE}}}alert"


def test_cap_alert_required_elements_in_schema_order():
    for message in chain().messages:
        names = local_names(parsed(message))
        assert set(names) >= ALERT_REQUIRED and in_schema_order(names, ALERT_ORDER), names


def test_cap_info_required_elements_in_schema_order():
    for message in chain().messages:
        for info_element in parsed(message).findall("cap:info", NS):
            names = local_names(info_element)
            assert set(names) >= INFO_REQUIRED and in_schema_order(names, INFO_ORDER), names


def test_cap_area_elements_in_schema_order():
    area = parsed(issued().current).find("cap:info/cap:area", NS)
    names = local_names(area)
    assert names[0] == "areaDesc" and in_schema_order(names, AREA_ORDER)


def test_cap_enumerations_valid():
    for message in chain("Exercise").messages:
        document = parsed(message)
        for name, allowed in ENUMS.items():
            values = [e.text for e in document.iter(f"{{{CAP_NAMESPACE}}}{name}")]
            assert values and set(values) <= allowed, (name, values)


def test_cap_datetimes_have_offset_and_no_fraction():
    moment = datetime(2026, 12, 2, 1, 30, 15, 987654, tzinfo=UTC)
    with acting():
        warning = EmergencyWarning.issue("ref", "433100", SENDER, "Actual",
                                         info(effective=moment, expires=moment + HOUR), moment)
    document = parsed(warning.current)
    stamps = [document.find(f"cap:{path}", NS).text for path in ("sent", "info/cap:effective", "info/cap:expires")]
    assert stamps[0] == "2026-12-02T01:30:15+00:00" and all(CAP_DATETIME.match(s) for s in stamps)


def test_cap_negative_offset_written_with_sign():
    moment = datetime(2026, 12, 2, 1, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
    with acting():
        warning = EmergencyWarning.issue("ref", "433100", SENDER, "Actual", info(), moment)
    assert parsed(warning.current).find("cap:sent", NS).text == "2026-12-02T01:30:00-05:30"


def test_cap_references_are_sender_identifier_sent_triples():
    warning = chain()
    references = parsed(warning.messages[2]).find("cap:references", NS).text.split(" ")
    earlier = [(m["sender"], m["identifier"], m["sent"]) for m in warning.messages[:2]]
    assert [tuple(r.split(",")) for r in references] == earlier


def test_cap_alert_has_no_references():
    assert parsed(issued().current).find("cap:references", NS) is None


def test_cap_identifier_and_sender_have_no_forbidden_characters():
    document = parsed(chain().current)
    assert all(CAP_TOKEN.match(document.find(f"cap:{name}", NS).text) for name in ("identifier", "sender"))


def test_cap_identifiers_unique_along_chain():
    identifiers = [parsed(m).find("cap:identifier", NS).text for m in chain().messages]
    assert len(set(identifiers)) == 3


def test_cap_exercise_status_rendered_on_every_message():
    assert {parsed(m).find("cap:status", NS).text for m in chain("Exercise").messages} == {"Exercise"}


def test_cap_area_has_description_and_a_geocode_per_code():
    area = parsed(issued().current).find("cap:info/cap:area", NS)
    geocodes = [g.find("cap:value", NS).text for g in area.findall("cap:geocode", NS)]
    assert (area.find("cap:areaDesc", NS).text, geocodes) == ("吉首市、凤凰县", ["433101", "433123"])


def test_polygon_not_closed_refused():
    with pytest.raises(ValidationFailed):
        issued(polygon=[[28.3, 109.7], [28.4, 109.7], [28.4, 109.8], [28.3, 109.8]])


def test_polygon_point_out_of_range_refused():
    with pytest.raises(ValidationFailed):
        issued(polygon=[[28.3, 109.7], [95, 109.7], [28.4, 109.8], [28.3, 109.7]])


def test_polygon_not_a_number_refused():
    with pytest.raises(ValidationFailed):
        issued(polygon=[[28.3, 109.7], [float("nan"), 109.7], [28.4, 109.8], [28.3, 109.7]])


def test_cap_polygon_after_area_description_in_decimal_degrees():
    warning = issued(polygon=[[28.3, 109.7], [28.45, 109.7], [28.4, 0.00001], [28.3, 109.7]])
    area = parsed(warning.current).find("cap:info/cap:area", NS)
    assert local_names(area)[:2] == ["areaDesc", "polygon"]
    assert area.find("cap:polygon", NS).text == "28.3,109.7 28.45,109.7 28.4,0.00001 28.3,109.7"


def test_cap_warning_level_as_parameter():
    parameter = parsed(issued().current).find("cap:info/cap:parameter", NS)
    assert (parameter.find("cap:valueName", NS).text, parameter.find("cap:value", NS).text) == (
        "warningLevel", "orange")


def test_cap_document_declares_utf8():
    assert render_cap(issued().current).startswith('<?xml version="1.0" encoding="UTF-8"?>')
