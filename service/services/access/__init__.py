"""Access: API keys (created with a role, stored as a hash, verified per request).

Roles and the one permission check are `service.domain.roles`.
"""
