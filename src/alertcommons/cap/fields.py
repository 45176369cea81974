"""Which XML element maps to which model attribute, in schema order.

Reading, writing and the JSON mapping all walk these tables, so the three cannot drift
apart: adding an element here adds it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from alertcommons.cap.model import Alert, Area, Info, Resource, ValuePair

Struct = Alert | Info | Resource | Area | ValuePair


@dataclass(frozen=True, slots=True)
class Field:
    xml: str
    attr: str
    many: bool = False
    child: type[Struct] | None = None
    required: bool = False


VALUE_PAIR_FIELDS = (
    Field("valueName", "value_name", required=True),
    Field("value", "value", required=True),
)

RESOURCE_FIELDS = (
    Field("resourceDesc", "resource_desc", required=True),
    Field("mimeType", "mime_type", required=True),
    Field("size", "size"),
    Field("uri", "uri"),
    Field("derefUri", "deref_uri"),
    Field("digest", "digest"),
)

AREA_FIELDS = (
    Field("areaDesc", "area_desc", required=True),
    Field("polygon", "polygons", many=True),
    Field("circle", "circles", many=True),
    Field("geocode", "geocodes", many=True, child=ValuePair),
    Field("altitude", "altitude"),
    Field("ceiling", "ceiling"),
)

INFO_FIELDS = (
    Field("language", "language"),
    Field("category", "categories", many=True, required=True),
    Field("event", "event", required=True),
    Field("responseType", "response_types", many=True),
    Field("urgency", "urgency", required=True),
    Field("severity", "severity", required=True),
    Field("certainty", "certainty", required=True),
    Field("audience", "audience"),
    Field("eventCode", "event_codes", many=True, child=ValuePair),
    Field("effective", "effective"),
    Field("onset", "onset"),
    Field("expires", "expires"),
    Field("senderName", "sender_name"),
    Field("headline", "headline"),
    Field("description", "description"),
    Field("instruction", "instruction"),
    Field("web", "web"),
    Field("contact", "contact"),
    Field("parameter", "parameters", many=True, child=ValuePair),
    Field("resource", "resources", many=True, child=Resource),
    Field("area", "areas", many=True, child=Area),
)

ALERT_FIELDS = (
    Field("identifier", "identifier", required=True),
    Field("sender", "sender", required=True),
    Field("sent", "sent", required=True),
    Field("status", "status", required=True),
    Field("msgType", "msg_type", required=True),
    Field("source", "source"),
    Field("scope", "scope", required=True),
    Field("restriction", "restriction"),
    Field("addresses", "addresses"),
    Field("code", "codes", many=True),
    Field("note", "note"),
    Field("references", "references"),
    Field("incidents", "incidents"),
    Field("info", "infos", many=True, child=Info),
)

FIELDS: dict[type[Struct], tuple[Field, ...]] = {
    Alert: ALERT_FIELDS,
    Info: INFO_FIELDS,
    Resource: RESOURCE_FIELDS,
    Area: AREA_FIELDS,
    ValuePair: VALUE_PAIR_FIELDS,
}

XML_NAMES: dict[type[Struct], str] = {
    Alert: "alert",
    Info: "info",
    Resource: "resource",
    Area: "area",
    ValuePair: "",  # named by the field that holds it: eventCode, parameter, geocode
}
