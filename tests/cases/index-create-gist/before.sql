CREATE TABLE docs (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    code varchar(32),
    title text,
    path text,
    body jsonb NOT NULL DEFAULT '{}',
    tags text[],
    location point,
    area box,
    valid_during tstzrange,
    tenant_id integer NOT NULL DEFAULT 1
);
INSERT INTO docs (id, email, code, title, path, body, tags, location, area, valid_during, tenant_id)
SELECT g, 'user' || g || '@example.com', 'C-' || g, 'Document number ' || g, '/a/' || (g % 4) || '/' || g,
       jsonb_build_object('kind', CASE WHEN g % 2 = 0 THEN 'note' ELSE 'memo' END, 'n', g),
       ARRAY['t' || (g % 3), 'all'], point(g, g * 2), box(point(g, g), point(g + 1, g + 1)),
       tstzrange(timestamptz '2024-01-01 00:00+00' + g * interval '1 day',
                 timestamptz '2024-01-01 00:00+00' + (g + 1) * interval '1 day'),
       1 + g % 2
FROM generate_series(1, 20) AS g;
