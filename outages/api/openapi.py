"""The OpenAPI 3.1 document of every JSON endpoint, served at /api/openapi.json.

Written by hand next to outages/api/serializers.py: change the two together.
One long module on purpose: it is one document, read top to bottom.
tests/test_openapi.py runs schemathesis against it, so a drift shows.
"""

from __future__ import annotations

from django.conf import settings

from ..models import AreaStatus, Cause, CrewStatus, EtaStage, Impact, IncidentStatus, Kind, MaintenanceStatus
from ..queries.current import POSTCODE_PATTERN

STATUSES = IncidentStatus.values + MaintenanceStatus.values


def _nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


STRING = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = _nullable(TIME)
STRING_OR_NULL = {"type": ["string", "null"]}
CREDIT = {
    "type": "object",
    "properties": {
        "service": {"type": "string"},
        "areas": {"type": "array", "items": {"type": "string"}},
        "threshold_minutes": {"type": "integer"},
        "credit": {"type": "string"},
        "text": {"type": "string"},
    },
    "required": ["service", "areas", "threshold_minutes", "credit", "text"],
    "additionalProperties": False,
    "description": "A service credit this outage has earned, and the sentence customers read",
}
CREW_STATUS = {"type": "string", "enum": CrewStatus.values}
COUNT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
AREA_STATUS = {"type": "string", "enum": AreaStatus.values}
SLUG = {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$", "minLength": 1, "maxLength": 120}


ESTIMATE = {
    "type": ["object", "null"],
    "description": "The automatic first estimate from similar past outages, while no operator ETA is given "
    "(an estimate, never a promise)",
    "properties": {
        "minutes": {"type": "integer", "description": "Most similar outages were fixed within this many minutes"},
        "samples": {"type": "integer", "description": "How many similar outages it is based on"},
        "text": {"type": "string"},
    },
    "required": ["minutes", "samples", "text"],
}


ETA_STAGE = {
    "type": "string",
    "enum": EtaStage.values,
    "description": "How firm the ETA is: assessing (no ETA yet), area_wide (an area-wide estimate), "
    "on_site (confirmed by the crew on site)",
}
ETA_STAGE_INPUT = {**ETA_STAGE, "description": "How firm the ETA is; absent: kept (a first ETA is area_wide)"}


TRANSLATIONS = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": 10000},
    "description": "The text in other languages, by language code (hu, he)",
}
SHORT_TRANSLATIONS = {**TRANSLATIONS, "additionalProperties": {"type": "string", "maxLength": 200}}


def _object(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


SUMMARY_ROW = {
    "type": "object",
    "properties": {
        "region": {
            "type": ["object", "null"],
            "properties": {"slug": STRING, "name": STRING},
            "required": ["slug", "name"],
        },
        "customers_out": {"type": "integer", "minimum": 0},
        "customers_served": {"type": "integer", "minimum": 0},
        "percent_out": {"type": ["number", "null"]},
        "incidents": {"type": "integer", "minimum": 0},
        "earliest_eta": TIME_OR_NULL,
        "latest_eta": TIME_OR_NULL,
    },
    "required": [
        "region",
        "customers_out",
        "customers_served",
        "percent_out",
        "incidents",
        "earliest_eta",
        "latest_eta",
    ],
}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(_ref("Error"), "Error")
NOT_MODIFIED = {"description": "Not modified since the ETag or date given (conditional GET)"}

SCHEMAS = {
    "Error": _object(
        {
            "error": {
                "type": "object",
                "properties": {
                    "status": {"type": "integer"},
                    "message": STRING,
                    "parameters": _array(STRING),
                    "fields": {"type": "object", "additionalProperties": _array(STRING)},
                },
                "required": ["status", "message"],
            }
        }
    ),
    "Page": _object({"id": STRING, "name": STRING, "url": STRING, "time_zone": STRING, "updated_at": TIME_OR_NULL}),
    "Status": _object(
        {"indicator": {"type": "string", "enum": ["none", "minor", "major", "critical"]}, "description": STRING}
    ),
    "Component": _object(
        {
            "id": STRING,
            "name": STRING,
            "status": AREA_STATUS,
            "created_at": TIME,
            "updated_at": TIME,
            "position": {"type": "integer"},
            "description": STRING_OR_NULL,
            "showcase": {"type": "boolean"},
            "start_date": STRING_OR_NULL,
            "group_id": STRING_OR_NULL,
            "page_id": STRING,
            "group": {"type": "boolean"},
            "only_show_if_degraded": {"type": "boolean"},
            "components": {**_array(STRING), "description": "Group components only: the ids of its components"},
            "x_slug": STRING,
        },
        optional=("components",),
    ),
    "AffectedComponent": _object(
        {"code": STRING, "name": STRING, "old_status": AREA_STATUS, "new_status": AREA_STATUS}
    ),
    "IncidentUpdate": _object(
        {
            "id": STRING,
            "status": {"type": "string", "enum": STATUSES},
            "body": STRING,
            "incident_id": STRING,
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": {"type": ["array", "null"], "items": _ref("AffectedComponent")},
            "x_eta": {**TIME_OR_NULL, "description": "Estimated restoration given with this update"},
        }
    ),
    "Incident": _object(
        {
            "id": STRING,
            "name": STRING,
            "status": {"type": "string", "enum": STATUSES},
            "created_at": TIME,
            "updated_at": TIME,
            "monitoring_at": TIME_OR_NULL,
            "resolved_at": TIME_OR_NULL,
            "impact": {"type": "string", "enum": Impact.values},
            "shortlink": STRING,
            "started_at": TIME,
            "page_id": STRING,
            "incident_updates": _array(_ref("IncidentUpdate")),
            "components": _array(_ref("Component")),
            "scheduled_for": {**TIME_OR_NULL, "description": "Maintenance windows only"},
            "scheduled_until": {**TIME_OR_NULL, "description": "Maintenance windows only"},
            "x_kind": {"type": "string", "enum": Kind.values},
            "x_eta": {**TIME_OR_NULL, "description": "Estimated restoration time"},
            "x_cause": {"type": ["string", "null"], "enum": [value for value in Cause.values if value] + [None]},
            "x_cause_text": STRING_OR_NULL,
            "x_services": _array(STRING),
            "x_crew_status": CREW_STATUS,
            "x_customers_affected": COUNT_OR_NULL,
            "x_next_update_at": {**TIME_OR_NULL, "description": "When the next update is promised (while it stands)"},
            "x_credits": {"type": "array", "items": CREDIT},
            "x_estimate": ESTIMATE,
            "x_eta_stage": ETA_STAGE,
        },
        optional=("scheduled_for", "scheduled_until"),
    ),
    "NativeArea": _object(
        {
            "slug": STRING,
            "name": STRING,
            "region": _object({"slug": STRING, "name": STRING}),
            "status": AREA_STATUS,
            "status_label": STRING,
            "time_zone": STRING,
            "url": STRING,
            "api_url": STRING,
        }
    ),
    "NativeIncident": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": Kind.values},
            "title": STRING,
            "status": {"type": "string", "enum": STATUSES},
            "impact": {"type": "string", "enum": Impact.values},
            "area_status": AREA_STATUS,
            "cause": STRING_OR_NULL,
            "cause_text": STRING_OR_NULL,
            "started_at": TIME,
            "eta": TIME_OR_NULL,
            "estimate": ESTIMATE,
            "eta_stage": ETA_STAGE,
            "scheduled_for": TIME_OR_NULL,
            "scheduled_until": TIME_OR_NULL,
            "crew_status": CREW_STATUS,
            "customers_affected": COUNT_OR_NULL,
            "next_update_at": TIME_OR_NULL,
            "credits": {"type": "array", "items": CREDIT},
            "latest_message": STRING,
            "latest_update_at": TIME_OR_NULL,
            "areas": _array(STRING),
            "services": _array(STRING),
            "url": STRING,
        }
    ),
    "NativeAreaDetail": {
        "allOf": [
            _ref("NativeArea"),
            _object(
                {
                    "description": STRING,
                    "postcodes": _array(STRING),
                    "eta": {**TIME_OR_NULL, "description": "The latest ETA among the active incidents"},
                    "next_update_at": {
                        **TIME_OR_NULL,
                        "description": "The soonest promised update among the active incidents",
                    },
                    "cause": STRING_OR_NULL,
                    "crew_status": {"type": ["string", "null"], "enum": [*CrewStatus.values, None]},
                    "customers_affected": COUNT_OR_NULL,
                    "active_incidents": _array(_ref("NativeIncident")),
                }
            ),
        ]
    },
    "NewIncident": {
        **_object(
            {
                "title": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                "areas": {**_array(SLUG), "minItems": 1, "description": "Area slugs"},
                "services": {**_array(SLUG), "description": "Service slugs"},
                "impact": {"type": "string", "enum": Impact.values},
                "status": {
                    "type": "string",
                    "enum": [IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING],
                },
                "message": {"type": "string", "maxLength": 10000},
                "message_translations": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "maxLength": 10000},
                    "description": "The message in other languages, by language code (hu, he)",
                },
                "eta": {**TIME_OR_NULL, "description": "Estimated restoration, in the future, with a time zone"},
                "cause": {"type": "string", "enum": Cause.values},
                "cause_detail": {"type": "string", "maxLength": 200},
                "eta_stage": ETA_STAGE_INPUT,
                "title_translations": SHORT_TRANSLATIONS,
                "cause_detail_translations": SHORT_TRANSLATIONS,
            },
            optional=(
                "title_translations",
                "cause_detail_translations",
                "services",
                "impact",
                "status",
                "message",
                "message_translations",
                "eta",
                "cause",
                "cause_detail",
                "eta_stage",
            ),
        ),
        "additionalProperties": False,
    },
    "NewUpdate": {
        **_object(
            {
                "status": {"type": "string", "enum": STATUSES},
                "message": {"type": "string", "maxLength": 10000},
                "message_translations": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "maxLength": 10000},
                    "description": "The message in other languages, by language code (hu, he)",
                },
                "eta": {
                    **TIME_OR_NULL,
                    "description": "Absent: keep the current ETA; null: withdraw it; a time: the new ETA",
                },
                "reopen": {
                    "type": "boolean",
                    "description": "Needed to post a non-resolved status on a resolved incident",
                },
                "eta_stage": ETA_STAGE_INPUT,
            },
            optional=("message", "message_translations", "eta", "reopen", "eta_stage"),
        ),
        "additionalProperties": False,
    },
    # The management API's incident: the native one plus what operators gave in every language.
    "ManagedIncident": {
        "allOf": [
            _ref("NativeIncident"),
            _object(
                {
                    "title_translations": TRANSLATIONS,
                    "cause_detail": STRING,
                    "cause_detail_translations": TRANSLATIONS,
                }
            ),
        ]
    },
    "PostedUpdate": _object(
        {
            "id": {"type": "integer"},
            "status": STRING,
            "message": STRING,
            "message_translations": TRANSLATIONS,
            "eta": TIME_OR_NULL,
            "created_at": TIME,
            "incident": _ref("ManagedIncident"),
        }
    ),
    "AlertmanagerWebhook": {
        **_object(
            {
                "version": STRING,
                "status": {"type": "string", "enum": ["firing", "resolved"]},
                "alerts": _array(
                    _object(
                        {
                            "status": {"type": "string", "enum": ["firing", "resolved"]},
                            "labels": {"type": "object", "additionalProperties": STRING},
                            "annotations": {"type": "object", "additionalProperties": STRING},
                            "startsAt": TIME,
                            "endsAt": STRING,
                            "fingerprint": {"type": "string", "minLength": 1, "maxLength": 64},
                        },
                        optional=("annotations", "endsAt"),
                    )
                ),
            },
            optional=("version", "status"),
        ),
        "description": "Alertmanager's webhook payload (version 4); other fields are ignored.",
    },
    "AlertmanagerResult": _object(
        {
            "opened": _array({"type": "integer"}),
            "resolved": _array({"type": "integer"}),
            "unchanged": _array({"type": "integer"}),
            "ignored": _array(_object({"fingerprint": STRING, "reason": STRING})),
        }
    ),
}


def _v2(summary: str, sections: dict, description: str = "") -> dict:
    schema = _object({"page": _ref("Page"), **sections})
    return {
        "get": {
            "summary": summary,
            "description": description,
            "tags": ["Statuspage v2"],
            "responses": {"200": _json(schema, "OK"), "304": NOT_MODIFIED, "400": ERROR},
        }
    }


def _get(summary: str, schema: dict, *, tag: str, parameters=(), errors=("400",)) -> dict:
    responses = {"200": _json(schema, "OK"), "304": NOT_MODIFIED}
    responses.update({code: ERROR for code in errors})
    return {"get": {"summary": summary, "tags": [tag], "parameters": list(parameters), "responses": responses}}


def _post(summary: str, body: dict, created: dict, *, code="201", parameters=(), errors=("400", "401", "403")) -> dict:
    responses = {code: _json(created, "Done")}
    responses.update({error: ERROR for error in errors})
    return {
        "post": {
            "summary": summary,
            "tags": ["Management"],
            "security": [{"bearerAuth": []}],
            "parameters": list(parameters),
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": responses,
        }
    }


INCIDENTS = _array(_ref("Incident"))
COMPONENTS = _array(_ref("Component"))


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.SITE_NAME} API",
            "version": "1",
            "description": (
                "Statuspage v2-compatible endpoints (areas are components, regions are component groups), "
                "native endpoints, and the token-authenticated management API. Fields Statuspage lacks "
                "carry the prefix x_."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v2/summary.json": _v2(
                "Page, status, components, unresolved incidents and upcoming or active maintenance",
                {
                    "status": _ref("Status"),
                    "components": COMPONENTS,
                    "incidents": INCIDENTS,
                    "scheduled_maintenances": INCIDENTS,
                },
            ),
            "/api/v2/status.json": _v2("The blended status", {"status": _ref("Status")}),
            "/api/v2/components.json": _v2("Areas (components) and regions (groups)", {"components": COMPONENTS}),
            "/api/v2/incidents.json": _v2("The 50 latest incidents and maintenance windows", {"incidents": INCIDENTS}),
            "/api/v2/incidents/unresolved.json": _v2("Unresolved incidents", {"incidents": INCIDENTS}),
            "/api/v2/scheduled-maintenances.json": _v2(
                "The 50 latest maintenance windows", {"scheduled_maintenances": INCIDENTS}
            ),
            "/api/v2/scheduled-maintenances/upcoming.json": _v2(
                "Maintenance windows still to come", {"scheduled_maintenances": INCIDENTS}
            ),
            "/api/v2/scheduled-maintenances/active.json": _v2(
                "Maintenance in progress or being verified", {"scheduled_maintenances": INCIDENTS}
            ),
            "/api/areas/": _get(
                "Every area with its status",
                _object({"updated_at": TIME_OR_NULL, "status": AREA_STATUS, "areas": _array(_ref("NativeArea"))}),
                tag="Native",
            ),
            "/api/areas/{slug}/": _get(
                "One area: status, active incidents, ETA, next update",
                _ref("NativeAreaDetail"),
                tag="Native",
                parameters=[{"name": "slug", "in": "path", "required": True, "schema": SLUG}],
                errors=("400", "404"),
            ),
            "/api/summary/regions.json": _get(
                "The storm at a glance: customers out and served per region, with a total row",
                _object({"regions": _array(SUMMARY_ROW), "total": SUMMARY_ROW}),
                tag="Native",
            ),
            "/api/summary/regions.csv": {
                "get": {
                    "summary": "The same table as CSV, for media and emergency services",
                    "tags": ["Native"],
                    "parameters": [],
                    "responses": {
                        "200": {
                            "description": "One row per region and a total row",
                            "content": {"text/csv": {"schema": STRING}},
                        },
                        "304": NOT_MODIFIED,
                        "400": ERROR,
                    },
                }
            },
            "/api/lookup/": _get(
                "The areas that cover a postcode",
                _object({"postcode": STRING, "areas": _array(_ref("NativeArea"))}),
                tag="Native",
                parameters=[
                    {
                        "name": "postcode",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": POSTCODE_PATTERN},
                    }
                ],
            ),
            "/api/openapi.json": _get("This document", {"type": "object"}, tag="Native"),
            "/api/manage/incidents/": _post("Open an incident", _ref("NewIncident"), _ref("ManagedIncident")),
            "/api/manage/incidents/{id}/updates/": _post(
                "Post an update (status resolved resolves the incident)",
                _ref("NewUpdate"),
                _ref("PostedUpdate"),
                parameters=[
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
                ],
                errors=("400", "401", "403", "404"),
            ),
            "/api/manage/alertmanager/": _post(
                "Alertmanager webhook receiver: opens an incident per firing alert labelled with an area "
                "(label `area`, slugs separated by commas), resolves it when the alert resolves",
                _ref("AlertmanagerWebhook"),
                _ref("AlertmanagerResult"),
                code="200",
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token created in the ops console (Authorization: Bearer sp_…)",
                }
            },
        },
    }
