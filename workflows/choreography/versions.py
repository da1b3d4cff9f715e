"""Version markers (`workflow.patched`) of the participants: each names a change of behaviour
that histories recorded before it must still replay without."""

CONFIRMS_FINAL_NOTICE = "confirms-final-notice"
"""The final message is confirmed by CustomerNotified, and the orders service records the end
only after it: an order recorded as ended then has every effect in the stores."""

PARTICIPANT_STATUS = "participant-order-status"
"""Every participant, not only the order view, keeps `OrderStatus` at where the order stood when
it last heard of it: a participant whose part ends early (inventory once the stock is consumed)
keeps the status it last knew. The order view's status is the order's."""
