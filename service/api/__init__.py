"""The HTTP API: thin Flask blueprints (parse, call one use case, serialise), authentication,
problem+json errors and the OpenAPI document. Blueprints never reach the store."""
