-- orders, their lines, and the transactional outbox (an order and its event commit together)
CREATE TABLE orders (
    seq BIGINT NOT NULL AUTO_INCREMENT,
    id CHAR(32) NOT NULL,
    user_id VARCHAR(64) NOT NULL,
    status VARCHAR(16) NOT NULL,
    total DECIMAL(14, 2) NOT NULL,
    currency CHAR(3) NOT NULL,
    idempotency_key VARCHAR(200) NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (seq),
    UNIQUE KEY orders_id (id),
    UNIQUE KEY orders_idempotency (user_id, idempotency_key),
    KEY orders_user (user_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE order_items (
    order_id CHAR(32) NOT NULL,
    line INT NOT NULL,
    product_id VARCHAR(64) NOT NULL,
    name VARCHAR(200) NOT NULL,
    quantity INT NOT NULL,
    unit_price DECIMAL(14, 2) NOT NULL,
    line_total DECIMAL(14, 2) NOT NULL,
    PRIMARY KEY (order_id, line)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE outbox (
    id BIGINT NOT NULL AUTO_INCREMENT,
    event_id CHAR(32) NOT NULL,
    topic VARCHAR(200) NOT NULL,
    msg_key VARCHAR(200) NOT NULL,
    payload LONGTEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    sent_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY outbox_event (event_id),
    KEY outbox_pending (sent_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
