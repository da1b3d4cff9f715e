"""Typed calls from a workflow to each service's activities, on that service's task queue.

A workflow reads `await inventory.reserve_stock(order)` instead of an `execute_activity` with a
name, a queue, a result type and a policy. Activity names are the contract with the services.
"""
