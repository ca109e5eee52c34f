CREATE TABLE accounts (
    id integer,
    code text,
    parent integer,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT "code.once" UNIQUE (code),
    CONSTRAINT accounts_parent FOREIGN KEY (parent) REFERENCES accounts (id),
    CONSTRAINT "my.check" CHECK (id > 0),
    CONSTRAINT small CHECK (id < 1000000)
);
COMMENT ON CONSTRAINT "my.check" ON accounts IS 'old';
COMMENT ON CONSTRAINT accounts_parent ON accounts IS 'to remove';
COMMENT ON CONSTRAINT small ON accounts IS 'left alone';
