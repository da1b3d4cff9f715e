"""Version markers (`workflow.patched`) of the participants: each names a change of behaviour
that histories recorded before it must still replay without."""

CONFIRMS_FINAL_NOTICE = "confirms-final-notice"
"""The final message is confirmed by CustomerNotified, and the orders service records the end
only after it: an order recorded as ended then has every effect in the stores."""

PARTICIPANT_STATUS = "participant-order-status"
"""Every participant, not only the order view, keeps `OrderStatus` at where the order stands as
far as it knows, so that a list by status in the Web UI holds every workflow of the order."""
