"""The search attributes that make orders listable in the Temporal UI, e.g.
`OrderStyle = "orchestrated" AND OrderStatus = "cancelled"`. The dev server registers them."""

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
ORDER_STYLE = SearchAttributeKey.for_keyword("OrderStyle")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")

ALL = (ORDER_ID, ORDER_STATUS, ORDER_STYLE, CUSTOMER_ID)


def for_order(order_id: str, customer_id: str, style: str, status: str) -> TypedSearchAttributes:
    """The attributes a workflow of this order starts with."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(ORDER_ID, order_id),
            SearchAttributePair(ORDER_STYLE, style),
            SearchAttributePair(CUSTOMER_ID, customer_id),
            SearchAttributePair(ORDER_STATUS, status),
        ]
    )
