"""The orders service: server-priced orders, atomic stock reservation, transactional outbox to Kafka."""
