CREATE TABLE old_parents (id int PRIMARY KEY, code text);
CREATE UNIQUE INDEX parents_code_idx ON old_parents (code);
CREATE TABLE children (id int PRIMARY KEY, parent int,
    CONSTRAINT children_parent_fkey FOREIGN KEY (parent) REFERENCES old_parents (id));
