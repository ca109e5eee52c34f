CREATE DOMAIN positive_price AS numeric(18,8) CHECK (VALUE > 0);
CREATE TABLE quotes (id bigint PRIMARY KEY, bid positive_price, ask positive_price);
