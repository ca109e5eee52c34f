CREATE TYPE legacy_status AS ENUM ('a', 'b');
CREATE TABLE orders (id bigint PRIMARY KEY, legacy legacy_status);
