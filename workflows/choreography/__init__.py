"""The choreographed style: one participant workflow per service and order, reacting to events
by the contract in `domain.events.contract`. Nobody is in charge."""
