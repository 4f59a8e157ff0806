-- Everyday SQL through psql's simple query protocol: command tags,
-- aligned output of common types, NULL display, transactions, errors.
CREATE TABLE products (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    price numeric(10,2) NOT NULL CHECK (price >= 0),
    in_stock boolean NOT NULL DEFAULT true,
    added date,
    weight_kg float8
);
INSERT INTO products (name, price, added, weight_kg) VALUES
    ('widget', 9.99, '2024-01-15', 0.25),
    ('gadget', 24.5, '2024-02-29', 1.5),
    ('gizmo ✓', 100, NULL, NULL);
INSERT INTO products (name, price, in_stock) VALUES ('doohickey', 0, false) RETURNING id, name, price;
SELECT * FROM products ORDER BY id;
SELECT name, price * 2 AS double_price, price::int AS rounded FROM products WHERE in_stock ORDER BY price DESC;
SELECT count(*), sum(price), avg(price)::numeric(10,3), min(added), max(added) FROM products;
SELECT in_stock, count(*) AS n, string_agg(name, ', ' ORDER BY name) AS names FROM products GROUP BY in_stock ORDER BY in_stock;
UPDATE products SET price = price + 1 WHERE price < 20 RETURNING name, price;
DELETE FROM products WHERE name = 'doohickey';
SELECT length('héllo'), upper('abc'), 'a' || NULL IS NULL AS null_concat, 7 / 2 AS int_div, 7 / 2.0 AS num_div;
SELECT 1 AS one, 'two' AS two, NULL AS three, true AS four;
SELECT * FROM products WHERE false;
BEGIN;
INSERT INTO products (name, price) VALUES ('temp', 1);
SELECT count(*) FROM products;
ROLLBACK;
SELECT count(*) FROM products;
-- Errors: message, position pointer, detail, and the SQLSTATE.
SELECT 1/0;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM no_such_table;
\echo :LAST_ERROR_SQLSTATE
SELECT nme FROM products;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO products (id, name, price) VALUES (1, 'dup', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO products (name, price) VALUES ('widget', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO products (name, price) VALUES ('negative', -1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO products (name) VALUES ('no price');
\echo :LAST_ERROR_SQLSTATE
SELECT 'abc'::int;
\echo :LAST_ERROR_SQLSTATE
SELEC 1;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT 1/0;
SELECT 1;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT name FROM products ORDER BY id;
