"""Payments: the Moyasar gateway, verification, webhooks, refunds and reconciliation."""
