CREATE TYPE order_status AS ENUM ('new', 'open', 'filled', 'cancelled');
CREATE TABLE orders (id bigint PRIMARY KEY, status order_status NOT NULL DEFAULT 'new');
