"""A warning message rendered as an OASIS CAP 1.2 alert document.

Pure: one recorded message (``EmergencyWarning.messages[i]``) in, XML text out,
so the same bytes can be rebuilt from the event log at any time. Elements are
written in the order the CAP 1.2 schema's sequences require; times already
carry an offset and whole seconds (see common.instant). Each jurisdiction
code of the area becomes a ``geocode``; ``areaDesc`` names the covered units.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
LANGUAGE = "zh-CN"
GEOCODE_NAME = "CN-division-code"  # China's administrative division code (GB/T 2260, extended below county)

# Names of the prefecture and its counties; units below county are named by their code.
DIVISION_NAMES = {
    "433100": "湘西土家族苗族自治州", "433101": "吉首市", "433122": "泸溪县", "433123": "凤凰县",
    "433124": "花垣县", "433125": "保靖县", "433126": "古丈县", "433127": "永顺县", "433130": "龙山县",
}


def area_description(codes: list[str]) -> str:
    return "、".join(DIVISION_NAMES.get(code, f"行政区划 {code}") for code in codes)


def render_cap(message: dict) -> str:
    """The CAP 1.2 ``alert`` document of one warning message, as a UTF-8 XML string."""
    alert = ET.Element(_tag("alert"))
    for name, value in (("identifier", message["identifier"]), ("sender", message["sender"]),
                        ("sent", message["sent"]), ("status", message["status"]),
                        ("msgType", message["msg_type"]), ("scope", "Public")):
        _child(alert, name, value)
    if message["references"]:
        _child(alert, "references", " ".join(message["references"]))
    if message.get("incident_id"):
        _child(alert, "incidents", str(message["incident_id"]))
    info = _child(alert, "info")
    _child(info, "language", LANGUAGE)
    for category in message["categories"]:
        _child(info, "category", category)
    for name, key in (("event", "event"), ("urgency", "urgency"), ("severity", "severity"),
                      ("certainty", "certainty"), ("effective", "effective"), ("expires", "expires"),
                      ("headline", "headline"), ("description", "description"), ("instruction", "instruction")):
        if message.get(key):
            _child(info, name, message[key])
    parameter = _child(info, "parameter")
    _child(parameter, "valueName", "warningLevel")
    _child(parameter, "value", message["level"])
    area = _child(info, "area")
    _child(area, "areaDesc", area_description(message["areas"]))
    if message.get("polygon"):
        _child(area, "polygon", " ".join(f"{_degrees(lat)},{_degrees(lon)}" for lat, lon in message["polygon"]))
    for code in message["areas"]:
        geocode = _child(area, "geocode")
        _child(geocode, "valueName", GEOCODE_NAME)
        _child(geocode, "value", code)
    body = ET.tostring(alert, encoding="unicode", default_namespace=CAP_NAMESPACE)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'


def _degrees(value: float) -> str:
    # Decimal degrees, never exponent notation; six places are about 0.1 m.
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _tag(name: str) -> str:
    return f"{{{CAP_NAMESPACE}}}{name}"


def _child(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, _tag(name))
    if text is not None:
        element.text = text
    return element
