"""The notifications service: one SNS notification per order event; a per-user log."""
