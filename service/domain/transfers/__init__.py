"""Transfer orders as plain objects: units moved from one location to another."""

from .transfer import (
    IN_TRANSIT,
    STATUSES,
    Transfer,
    TransferLine,
)

__all__ = ["IN_TRANSIT", "STATUSES", "Transfer", "TransferLine"]
