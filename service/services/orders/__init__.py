"""Orders: from a cart to a shipment.

Owns sourcing (`requests` parses and geocodes a plan or order body, `sourcing` finds the
least-cost plan under the ruleset's split policy, `planning` is the dry run), placing
(`placing` plans and allocates in one transaction: `allocation`), reading (`reading`) and
cancelling (`cancelling`), the ship locations' events (`fulfilment`) and work queues
(`work_queue`), the backlog that sourcing scores (`backlog`) and the API's JSON of an order
(`views`). The order's own rules are the aggregate in `service.domain.orders`.
"""
