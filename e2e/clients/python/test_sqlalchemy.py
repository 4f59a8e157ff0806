"""SQLAlchemy (1.4 from Debian 12, 2.0 from Debian 13) with psycopg2 against chr2sql.

The engine URL is DATABASE_URL with the scheme changed to
postgresql+psycopg2; nothing else is chr2sql-specific. The dialect's first
connect, has_table/create_all and the inspector send catalog queries
(pg_catalog) that chr2sql must answer as PostgreSQL does.
"""
import datetime
import decimal
import os
import unittest

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, declarative_base, relationship, selectinload, joinedload

URL = os.environ["DATABASE_URL"].split("?")[0].replace("postgres://", "postgresql+psycopg2://", 1)
Base = declarative_base()


class Author(Base):
    __tablename__ = "sa_authors"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100), nullable=False, unique=True)
    joined = sa.Column(sa.DateTime(timezone=True), nullable=False)
    books = relationship("Book", back_populates="author", cascade="all, delete-orphan", order_by="Book.id")


class Book(Base):
    __tablename__ = "sa_books"
    id = sa.Column(sa.Integer, primary_key=True)
    author_id = sa.Column(sa.Integer, sa.ForeignKey("sa_authors.id", ondelete="CASCADE"), nullable=False, index=True)
    title = sa.Column(sa.Text, nullable=False)
    price = sa.Column(sa.Numeric(8, 2))
    in_print = sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    meta = sa.Column(JSONB)
    author = relationship("Author", back_populates="books")


class SQLAlchemyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = sa.create_engine(URL, future=True)
        cls.statements = []
        event.listen(cls.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: cls.statements.append(statement))
        Base.metadata.create_all(cls.engine)

    @classmethod
    def tearDownClass(cls):
        cls.engine.dispose()

    def test_1_create_all_is_idempotent(self):
        self.statements.clear()
        Base.metadata.create_all(self.engine)
        ddl = [s for s in self.statements if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))]
        self.assertEqual(ddl, [], "second create_all must only check, not create")

    def test_2_inspector(self):
        insp = sa.inspect(self.engine)
        self.assertTrue({"sa_authors", "sa_books"} <= set(insp.get_table_names()))
        cols = {c["name"]: c for c in insp.get_columns("sa_books")}
        self.assertEqual(list(cols), ["id", "author_id", "title", "price", "in_print", "meta"])
        self.assertFalse(cols["title"]["nullable"])
        self.assertIsInstance(cols["price"]["type"], sa.Numeric)
        self.assertEqual((cols["price"]["type"].precision, cols["price"]["type"].scale), (8, 2))
        self.assertEqual(insp.get_pk_constraint("sa_books")["constrained_columns"], ["id"])
        fks = insp.get_foreign_keys("sa_books")
        self.assertEqual([(f["referred_table"], f["constrained_columns"]) for f in fks], [("sa_authors", ["author_id"])])
        self.assertIn("ix_sa_books_author_id", [i["name"] for i in insp.get_indexes("sa_books")])

    def test_3_core(self):
        books = Book.__table__
        authors = Author.__table__
        with self.engine.begin() as conn:
            aid = conn.execute(authors.insert().returning(authors.c.id),
                               {"name": "core author", "joined": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)}).scalar_one()
            conn.execute(books.insert(), [{"author_id": aid, "title": "t%d" % i, "price": decimal.Decimal("1.10") * i,
                                           "meta": {"i": i}} for i in range(5)])
        with self.engine.connect() as conn:
            q = (sa.select(authors.c.name, sa.func.count(books.c.id), sa.func.sum(books.c.price))
                 .join(books).where(books.c.title.like("t%")).group_by(authors.c.name))
            self.assertEqual(conn.execute(q).all(), [("core author", 5, decimal.Decimal("11.00"))])
            self.assertEqual(conn.execute(sa.select(books.c.meta["i"].astext).where(books.c.title == "t3")).scalar_one(), "3")
        with self.engine.begin() as conn:
            res = conn.execute(books.update().where(books.c.price > 3).values(in_print=False))
            self.assertEqual(res.rowcount, 2)
            conn.execute(authors.delete().where(authors.c.id == aid))
        with self.engine.connect() as conn:
            self.assertEqual(conn.execute(sa.select(sa.func.count()).select_from(books)).scalar_one(), 0)

    def test_4_orm(self):
        joined = datetime.datetime(2021, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
        with Session(self.engine) as s, s.begin():
            s.add_all([
                Author(name="Le Guin", joined=joined, books=[Book(title="Earthsea", price=decimal.Decimal("9.50")),
                                                             Book(title="The Dispossessed")]),
                Author(name="Lem", joined=joined, books=[Book(title="Solaris", meta={"lang": "pl"})]),
            ])
        with Session(self.engine) as s:
            authors = s.execute(sa.select(Author).options(selectinload(Author.books)).order_by(Author.name)).scalars().all()
            self.assertEqual([(a.name, [b.title for b in a.books]) for a in authors],
                             [("Le Guin", ["Earthsea", "The Dispossessed"]), ("Lem", ["Solaris"])])
            self.assertEqual(authors[0].joined, joined)
            book = s.execute(sa.select(Book).options(joinedload(Book.author)).where(Book.title == "Solaris")).scalar_one()
            self.assertEqual((book.author.name, book.meta, book.in_print), ("Lem", {"lang": "pl"}, True))
        with Session(self.engine) as s:
            try:
                with s.begin():
                    s.add(Author(name="Lem", joined=joined))
            except sa.exc.IntegrityError as e:
                self.assertEqual(e.orig.pgcode, "23505")
            else:
                self.fail("duplicate author name was accepted")
        with Session(self.engine) as s:
            with s.begin():
                lem = s.execute(sa.select(Author).where(Author.name == "Lem")).scalar_one()
                lem.books.append(Book(title="The Cyberiad"))
                s.flush()
                nested = s.begin_nested()  # SAVEPOINT
                s.add(Book(author_id=lem.id, title="draft"))
                nested.rollback()
            titles = s.execute(sa.select(Book.title).order_by(Book.title)).scalars().all()
            self.assertEqual(titles, ["Earthsea", "Solaris", "The Cyberiad", "The Dispossessed"])

    @unittest.skipUnless(sa.__version__.startswith("2."), "insertmanyvalues and ORM bulk RETURNING are SQLAlchemy 2.0")
    def test_5_sqlalchemy2_bulk_returning(self):
        books = Book.__table__
        with self.engine.begin() as conn:
            aid = conn.execute(sa.select(Author.id).where(Author.name == "Lem")).scalar_one()
            # One executemany with RETURNING: SQLAlchemy 2 sends it as multi-row
            # INSERT … VALUES … RETURNING batches and sorts the rows back by a
            # sentinel; the ids must come back in parameter order.
            rows = conn.execute(books.insert().returning(books.c.id, books.c.title, sort_by_parameter_order=True),
                                [{"author_id": aid, "title": "bulk%02d" % i} for i in range(25)]).all()
        self.assertEqual([r.title for r in rows], ["bulk%02d" % i for i in range(25)])
        self.assertEqual([r.id for r in rows], sorted(r.id for r in rows))
        with Session(self.engine) as s, s.begin():
            got = s.scalars(sa.insert(Book).returning(Book), [{"author_id": aid, "title": "orm%d" % i} for i in range(3)]).all()
            self.assertEqual([b.title for b in got], ["orm0", "orm1", "orm2"])
            self.assertTrue(all(b.in_print for b in got), "server default must come back through RETURNING")
            n = s.execute(sa.delete(Book).where(Book.title.like("bulk%") | Book.title.like("orm%"))).rowcount
            self.assertEqual(n, 28)


if __name__ == "__main__":
    unittest.main()
