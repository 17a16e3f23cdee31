-- the fingerprint of the request an Idempotency-Key was first used for (a reuse with another body is refused),
-- and the stock each cancelled order gives back, recorded in the cancelling transaction and settled after it
ALTER TABLE orders ADD COLUMN request_hash CHAR(64) NULL;

CREATE TABLE stock_releases (
    order_id CHAR(32) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    released_at DATETIME(6) NULL,
    PRIMARY KEY (order_id),
    KEY stock_releases_pending (released_at, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
