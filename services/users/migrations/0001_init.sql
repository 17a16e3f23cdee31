-- users: one row per account; e-mail unique case-insensitively (stored lower-cased)
CREATE TABLE users (
    seq BIGINT NOT NULL AUTO_INCREMENT,
    id CHAR(32) NOT NULL,
    email VARCHAR(254) NOT NULL,
    name VARCHAR(200) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(16) NOT NULL DEFAULT 'user',
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (seq),
    UNIQUE KEY users_id (id),
    UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
