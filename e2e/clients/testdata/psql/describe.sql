-- psql's backslash commands: they send catalog queries (pg_catalog,
-- information_schema) that chr2sql must answer as PostgreSQL does.
CREATE TABLE authors (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    email varchar(200) UNIQUE,
    born date
);
CREATE TABLE books (
    id integer PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    title text NOT NULL,
    pages integer CHECK (pages > 0),
    price numeric(8,2) DEFAULT 0,
    published timestamptz
);
CREATE INDEX books_title_idx ON books (title);
CREATE UNIQUE INDEX books_author_title_idx ON books (author_id, title);
CREATE SCHEMA archive;
CREATE TABLE archive.old_books (id integer, title text);
\dt
\d books
\d authors
\di
\dn
\dt archive.*
\d no_such_relation
\l postgres
\conninfo
