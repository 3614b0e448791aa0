"""The NGSI-LD API (ETSI GS CIM 009) at /ngsi-ld/v1: entities, batch operations, queries,
JSON-LD contexts, tenants, ProblemDetails, Smart Data Models validation."""
