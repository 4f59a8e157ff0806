-- Statements both servers answer the same way; the runner's own test.
CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO t VALUES (1, 'a'), (2, 'b');
SELECT id, v FROM t ORDER BY id;
SELECT v FROM t WHERE id > 5;
UPDATE t SET v = 'c' WHERE id = 2;
SELECT 1/0;
SELECT * FROM nowhere;
DELETE FROM t;
