"""The hybrid style: an orchestrator owns the order's lifecycle (`order.py`) and hands the
fulfilment to a choreography of warehouse participants (`warehouse.py`) declared in the same
event contract as the choreographed style."""
