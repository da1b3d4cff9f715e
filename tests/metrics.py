"""The business counters of this process, as a scrape of its metrics endpoint would read them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from infra.metrics import business_exposition


def counted(sample_name: str, **labels: str) -> int:
    """The value of one counter's sample with exactly these labels (0 when never counted)."""
    for family in text_string_to_metric_families(business_exposition().decode()):
        for sample in family.samples:
            if sample.name == sample_name and sample.labels == labels:
                return int(sample.value)
    return 0


def conflicts_counted(operation: str) -> int:
    """Store writes of `operation` run again after a conflict (`orders.store.conflicts`)."""
    return counted("orders_store_conflicts_total", operation=operation)
