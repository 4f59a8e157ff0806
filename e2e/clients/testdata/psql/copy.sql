-- COPY through psql: FROM STDIN with inline data (text and CSV), TO STDOUT
-- in text and CSV, \copy, and a COPY error.
CREATE TABLE events (id integer PRIMARY KEY, kind text NOT NULL, payload text, amount numeric(8,2));
COPY events (id, kind, payload, amount) FROM STDIN;
1	click	{"x": 1}	1.50
2	view	\N	\N
3	tab	a\tb\\c	-2
\.
COPY events FROM STDIN WITH (FORMAT csv, HEADER true);
id,kind,payload,amount
4,csv,"quoted, with comma",10
5,csv,"line
break",
\.
SELECT * FROM events ORDER BY id;
COPY events TO STDOUT;
COPY (SELECT id, kind, amount FROM events WHERE amount IS NOT NULL ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
\copy events (id, kind) from stdin
6	copied
\.
\copy (SELECT id, kind FROM events WHERE id > 4 ORDER BY id) to stdout with csv
COPY events (id, kind) FROM STDIN;
7	ok
1	duplicate
\.
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM events;
