"""Typed calls from a workflow to each service's activities, on that service's task queue.

A workflow reads `await inventory.reserve_stock(order)`; that function builds the request and
calls `InventoryActivities.reserve_stock` by reference (`call`), which gives the activity's name,
its types and, through `@service_activities`, its task queue: no name is written as a string.
"""
