"""The api wing: every machine-readable answer.

- statuspage: Statuspage v2-compatible JSON and the native JSON
- serializers: the JSON shapes both share; openapi: their OpenAPI 3.1 document
- manage: the token-authenticated management API; alertmanager: its receiver
- feeds: Atom and RSS; ivr: the voice line's text and SSML; health: liveness and readiness
- http: JSON errors, CORS, caching of public GETs

Imports: the write side, the read side, the live page cache. Never views or admin.
"""
