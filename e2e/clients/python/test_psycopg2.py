"""psycopg2 against chr2sql.

The connection comes from the libpq environment (PGHOST, PGPORT, PGUSER,
PGDATABASE) only. psycopg2 interpolates parameters on the client and sends
everything over the simple query protocol, opening transactions with an
implicit BEGIN; named cursors use DECLARE/FETCH.
"""
import datetime
import decimal
import io
import unittest
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extras

psycopg2.extras.register_uuid()


def connect():
    conn = psycopg2.connect("")
    conn.set_session(autocommit=False)
    return conn


class Psycopg2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = connect()
        with cls.conn.cursor() as cur:
            cur.execute(
                """CREATE TABLE IF NOT EXISTS py_items (
                    id serial PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(10,2),
                    qty int8, ratio float8, ok bool, born date, at timestamptz, uid uuid,
                    raw bytea, doc jsonb, tags text[])"""
            )
        cls.conn.commit()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def setUp(self):
        self.conn.rollback()
        with self.conn.cursor() as cur:
            cur.execute("DELETE FROM py_items")
        self.conn.commit()

    def insert_sample(self, cur, name="widget"):
        cur.execute(
            """INSERT INTO py_items (name, price, qty, ratio, ok, born, at, uid, raw, doc)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (name, decimal.Decimal("19.99"), 2**40, 0.5, True, datetime.date(2020, 2, 29),
             datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc),
             uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), psycopg2.Binary(b"\x00\x01\xff"),
             psycopg2.extras.Json({"k": [1, "two", None]})),
        )
        return cur.fetchone()[0]

    def test_types_round_trip(self):
        with self.conn.cursor() as cur:
            self.insert_sample(cur)
            cur.execute("SELECT name, price, qty, ratio, ok, born, at, uid, raw, doc FROM py_items")
            row = cur.fetchone()
            self.assertEqual(row[0], "widget")
            self.assertEqual(row[1], decimal.Decimal("19.99"))
            self.assertEqual(row[2], 2**40)
            self.assertEqual(row[3], 0.5)
            self.assertIs(row[4], True)
            self.assertEqual(row[5], datetime.date(2020, 2, 29))
            self.assertEqual(row[6], datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc))
            self.assertEqual(row[7], uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
            self.assertEqual(bytes(row[8]), b"\x00\x01\xff")
            self.assertEqual(row[9], {"k": [1, "two", None]})
            self.assertEqual([d.name for d in cur.description][:3], ["name", "price", "qty"])
        self.conn.commit()

    def test_arrays(self):
        with self.conn.cursor() as cur:
            cur.execute("INSERT INTO py_items (name, tags) VALUES (%s, %s)", ("tagged", ["a", "b c", 'q"uote']))
            cur.execute("SELECT tags FROM py_items WHERE %s = ANY(tags)", ("b c",))
            self.assertEqual(cur.fetchone()[0], ["a", "b c", 'q"uote'])
            cur.execute("SELECT count(*) FROM py_items WHERE name = ANY(%s)", (["tagged", "other"],))
            self.assertEqual(cur.fetchone()[0], 1)
        self.conn.commit()

    def test_executemany_execute_values_and_dict_cursor(self):
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO py_items (name, qty) VALUES (%s, %s)", [("m%d" % i, i) for i in range(20)])
            psycopg2.extras.execute_values(cur, "INSERT INTO py_items (name, qty) VALUES %s",
                                           [("v%d" % i, 100 + i) for i in range(50)], page_size=20)
        self.conn.commit()
        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT count(*) AS n, sum(qty) AS total FROM py_items")
            self.assertEqual(cur.fetchone(), {"n": 70, "total": decimal.Decimal(190 + 50 * 100 + 1225)})
        self.conn.commit()

    def test_transactions_and_errors(self):
        with self.conn.cursor() as cur:
            self.insert_sample(cur, "committed")
        self.conn.commit()
        with self.conn.cursor() as cur:
            self.insert_sample(cur, "rolled back")
        self.conn.rollback()
        with self.conn.cursor() as cur:
            with self.assertRaises(psycopg2.errors.UniqueViolation) as ctx:
                self.insert_sample(cur, "committed")
            self.assertEqual(ctx.exception.pgcode, "23505")
            self.assertEqual(ctx.exception.diag.constraint_name, "py_items_name_key")
            with self.assertRaises(psycopg2.errors.InFailedSqlTransaction):
                cur.execute("SELECT 1")
        self.conn.rollback()
        with self.conn.cursor() as cur:
            cur.execute("SELECT array_agg(name) FROM py_items")
            self.assertEqual(cur.fetchone()[0], ["committed"])
            with self.assertRaises(psycopg2.errors.DivisionByZero):
                cur.execute("SELECT 1/0")
        self.conn.rollback()

    def test_autocommit_and_isolation(self):
        conn = connect()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("INSERT INTO py_items (name) VALUES ('auto')")
                cur.execute("SHOW transaction_isolation")
                self.assertEqual(cur.fetchone()[0], "read committed")
            conn.autocommit = False
            conn.set_session(isolation_level="SERIALIZABLE")
            with conn.cursor() as cur:
                cur.execute("SHOW transaction_isolation")
                self.assertEqual(cur.fetchone()[0], "serializable")
            conn.commit()
        finally:
            conn.close()
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM py_items WHERE name = 'auto'")
            self.assertEqual(cur.fetchone()[0], 1)
        self.conn.commit()

    def test_copy_expert(self):
        data = io.StringIO("".join("c%d,%d,%s\n" % (i, i, "" if i % 4 == 0 else "1.25") for i in range(200)))
        with self.conn.cursor() as cur:
            cur.copy_expert("COPY py_items (name, qty, price) FROM STDIN WITH (FORMAT csv)", data)
            self.assertEqual(cur.rowcount, 200)
            out = io.StringIO()
            cur.copy_expert("COPY (SELECT name, qty, price FROM py_items WHERE qty < 3 ORDER BY qty) TO STDOUT WITH (FORMAT csv, HEADER)", out)
            self.assertEqual(out.getvalue(), "name,qty,price\nc0,0,\nc1,1,1.25\nc2,2,1.25\n")
        self.conn.commit()

    def test_named_server_side_cursor(self):
        with self.conn.cursor() as cur:
            psycopg2.extras.execute_values(cur, "INSERT INTO py_items (name, qty) VALUES %s", [("s%d" % i, i) for i in range(500)])
        self.conn.commit()
        total, batches = 0, 0
        with self.conn.cursor(name="big_scan") as cur:
            cur.itersize = 128
            cur.execute("SELECT qty FROM py_items ORDER BY qty")
            while True:
                rows = cur.fetchmany(128)
                if not rows:
                    break
                batches += 1
                total += sum(r[0] for r in rows)
        self.conn.commit()
        self.assertEqual((total, batches), (sum(range(500)), 4))


if __name__ == "__main__":
    unittest.main()
