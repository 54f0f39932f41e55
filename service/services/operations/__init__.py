"""Operations: what keeps the service running rather than what it sells.

Owns the health report (`health`), the scheduled jobs' leases and table statistics
(`jobs`), and migrating the database (`schema`).
"""
