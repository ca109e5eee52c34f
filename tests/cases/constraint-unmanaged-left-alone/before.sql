CREATE TABLE items (id int PRIMARY KEY, sku text UNIQUE, qty int CHECK (qty >= 0));
