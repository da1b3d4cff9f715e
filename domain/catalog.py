"""The products the demo shop sells, and the stock the inventory store starts with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    unit_price_cents: int
    initial_stock: int


CATALOG: tuple[Product, ...] = (
    Product("KB-001", "Mechanical keyboard", 8_900, 100_000),
    Product("MS-002", "Wireless mouse", 2_900, 100_000),
    Product("MN-003", "27-inch monitor", 32_900, 100_000),
    Product("WS-004", "Workstation", 249_900, 10_000),
    Product("LP-005", "Vintage lamp (sold out)", 12_000, 0),
)

PRODUCTS_BY_SKU: dict[str, Product] = {product.sku: product for product in CATALOG}


def unknown_skus(skus: Iterable[str]) -> set[str]:
    """Those of `skus` the shop does not sell."""
    return {sku for sku in skus if sku not in PRODUCTS_BY_SKU}


def catalogue_skus() -> str:
    """What the shop sells, for a message: `KB-001, MS-002, ...`."""
    return ", ".join(PRODUCTS_BY_SKU)
