"""The console's API described for machines: served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from bot.core.steering import COMMAND_KINDS, MAX_SHIFT_MINUTES

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
_OCCURRENCE = {
    "name": "occurrence",
    "in": "path",
    "required": True,
    "description": "The occurrence id, chat/date, e.g. hexichat/2026-12-02 (the slash as is).",
    "schema": {"type": "string"},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "tweetchat console",
        "version": "1",
        "description": (
            "The state of a running chat and the hosts' commands. Every call needs the "
            "console's secret as a bearer token (or a signed-in session with its "
            "X-CSRF-Token header for changes). X-Host-Name names who acts, for the log."
        ),
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": _ERROR,
            "Command": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string", "enum": list(COMMAND_KINDS)},
                    "platform": {
                        "type": "string",
                        "description": "boost, unboost, skip: required; host_post: one "
                        "platform, else all",
                    },
                    "post_id": {"type": "string", "description": "boost, unboost, skip: the post"},
                    "text": {"type": "string", "description": "host_post, edit"},
                    "slot": {"type": "string", "description": "edit: the question, q3"},
                    "minutes": {
                        "type": "number",
                        "description": f"shift: minutes, at most {MAX_SHIFT_MINUTES:g} either "
                        "way; negative brings the rest earlier",
                    },
                },
            },
            "Accepted": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string"},
                    "state": {"type": "string", "enum": ["pending"]},
                },
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/occurrences/{occurrence}": {
            "get": {
                "summary": "The occurrence as the hosts see it",
                "description": (
                    "agenda (state: planned, late, held, posting, posted, missed, failed), "
                    "current_question, answers (newest first, rule, first_time), others, "
                    "candidates (state: scored, offered: awaiting a host's approval in approve "
                    "mode, rejected with its rule, skipped, boosting, failed; score, "
                    "breakdown), boosts, caps, numbers, health "
                    "(owner, workers, failed posts, x_budget, and platforms: mode stream or "
                    "polling with mode_reason, rate_limited_until, rate_limit_waits, errors, "
                    "last_error), "
                    "commands (state: pending, done, refused with reason, failed)."
                ),
                "parameters": [_OCCURRENCE],
                "responses": {
                    "200": {"description": "The state", "content": {"application/json": {}}},
                    "401": {"description": "Not signed in, or a wrong token"},
                    "404": {"description": "Not the current occurrence of a chat here"},
                },
            }
        },
        "/api/occurrences/{occurrence}/commands": {
            "post": {
                "summary": "Ask the worker to do something; it is done once, or refused",
                "parameters": [_OCCURRENCE],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Command"}}
                    },
                },
                "responses": {
                    "202": {
                        "description": "Stored; the worker carries it out within a second",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Accepted"}
                            }
                        },
                    },
                    "400": {
                        "description": "The command is not understood (the error says why)",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                    "401": {"description": "Not signed in, or a wrong token"},
                    "403": {"description": "A session without its CSRF token"},
                },
            }
        },
    },
}
