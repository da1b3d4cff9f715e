"""The orchestrated style: `OrderWorkflow` drives every service; `ShipmentWorkflow` is its child
on the shipping task queue."""
