from domain.base import Model
from domain.order import OrderId


class OrderRef(Model):
    """An activity argument that needs nothing but the order it acts on."""

    order_id: OrderId
