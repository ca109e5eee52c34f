CREATE TABLE orders (
    id integer PRIMARY KEY,
    status varchar(10) CONSTRAINT orders_status_check CHECK (status IN ('pending', 'shipped'))
);
CREATE TABLE returns (
    id integer PRIMARY KEY,
    status varchar(10)
);
