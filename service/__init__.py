"""The OMS rules service. The rooms and what each may import: docs/architecture.md."""
