"""Delivery: matching alerts to receivers' endpoints, the outbox, the dispatcher, channels."""
