// node-postgres (pg) against chr2sql. The connection comes from the libpq
// environment (PGHOST, PGPORT, PGUSER, PGDATABASE) only: nothing else is
// chr2sql-specific. pg sends every parameterized query as one pipelined
// Parse/Bind/Describe(portal)/Execute/Sync without describing the statement,
// with untyped (OID 0) text parameters the server must infer.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const pg = require('pg');

// Every protocol message pg writes, for failure reports (the SQL it sent).
const sent = [];
function traced(client) {
  const conn = client.connection;
  for (const m of ['parse', 'bind', 'describe', 'execute', 'query', 'sync']) {
    const orig = conn[m].bind(conn);
    conn[m] = (arg, ...rest) => {
      sent.push(m + ' ' + JSON.stringify(arg));
      if (sent.length > 200) sent.shift();
      return orig(arg, ...rest);
    };
  }
  return client;
}

async function connect() {
  const client = traced(new pg.Client());
  await client.connect();
  return client;
}

test.afterEach((t) => {
  if (t.passed === false) {
    console.error('messages pg sent (most recent last):\n' + sent.slice(-30).join('\n'));
  }
  sent.length = 0;
});

test('simple and extended queries with inferred parameter types', async () => {
  const c = await connect();
  try {
    await c.query(`CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int4,
      score numeric(6,2), big int8, born date, seen timestamptz, active bool NOT NULL DEFAULT true,
      doc jsonb, photo bytea)`);
    const ins = await c.query(
      `INSERT INTO people (name, age, score, big, born, seen, doc, photo)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      ['Ada', 36, '12.50', '9007199254740993', '1815-12-10', new Date('2024-03-01T12:00:00.123Z'),
        { langs: ['en', 'fr'], n: 1 }, Buffer.from([0, 1, 254, 255])]);
    assert.equal(ins.rows[0].id, 1);
    assert.equal(ins.command, 'INSERT');
    assert.equal(ins.rowCount, 1);
    await c.query('INSERT INTO people (name, age) VALUES ($1, $2), ($3, $4)', ['Grace', null, 'Linus', 54]);

    const r = await c.query('SELECT * FROM people WHERE id = $1', [1]);
    const row = r.rows[0];
    assert.equal(row.name, 'Ada');
    assert.equal(row.age, 36);
    assert.equal(row.score, '12.50');
    assert.equal(row.big, '9007199254740993');
    assert.equal(row.seen.toISOString(), '2024-03-01T12:00:00.123Z');
    assert.equal(row.active, true);
    assert.deepEqual(row.doc, { langs: ['en', 'fr'], n: 1 });
    assert.deepEqual([...row.photo], [0, 1, 254, 255]);
    assert.deepEqual(r.fields.map((f) => f.dataTypeID), [23, 25, 23, 1700, 20, 1082, 1184, 16, 3802, 17]);

    const agg = await c.query('SELECT count(*) AS n, sum(age) AS total, max(name) AS last FROM people WHERE age > $1 OR age IS NULL', [0]);
    assert.deepEqual(agg.rows[0], { n: '3', total: '90', last: 'Linus' });
    const arr = await c.query({ text: 'SELECT $1::int4 + 1 AS a, $2 || \'!\' AS b', values: [41, 'hi'], rowMode: 'array' });
    assert.deepEqual(arr.rows, [[42, 'hi!']]);
    const none = await c.query('SELECT id FROM people WHERE name = $1', ['nobody']);
    assert.equal(none.rowCount, 0);
    assert.equal(none.fields[0].name, 'id');
  } finally {
    await c.end();
  }
});

test('arrays as parameters and results', async () => {
  const c = await connect();
  try {
    await c.query('CREATE TABLE tagged (id int4 PRIMARY KEY, tags text[] NOT NULL, nums int4[])');
    await c.query('INSERT INTO tagged VALUES ($1, $2, $3)', [1, ['math', 'a b', 'q"uote'], [3, 1, 2]]);
    const r = await c.query('SELECT tags, nums FROM tagged WHERE $1 = ANY(tags)', ['a b']);
    assert.deepEqual(r.rows, [{ tags: ['math', 'a b', 'q"uote'], nums: [3, 1, 2] }]);
    assert.deepEqual(r.fields.map((f) => f.dataTypeID), [1009, 1007]);
  } finally {
    await c.end();
  }
});

test('named prepared statements are parsed once and reused', async () => {
  const c = await connect();
  try {
    await c.query('CREATE TABLE counters (k text PRIMARY KEY, v int8 NOT NULL DEFAULT 0)');
    const put = { name: 'put-counter', text: 'INSERT INTO counters (k, v) VALUES ($1, $2)' };
    for (let i = 0; i < 10; i++) {
      await c.query({ ...put, values: ['k' + i, i] });
    }
    assert.equal(sent.filter((m) => m.startsWith('parse') && m.includes('put-counter')).length, 1,
      'pg parses a named statement once per connection');
    const bump = { name: 'bump', text: 'UPDATE counters SET v = v + $2 WHERE k = $1 RETURNING v' };
    const a = await c.query({ ...bump, values: ['k3', 100] });
    const b = await c.query({ ...bump, values: ['k3', 1] });
    assert.equal(a.rows[0].v, '103');
    assert.equal(b.rows[0].v, '104');
  } finally {
    await c.end();
  }
});

test('queued queries, errors with SQLSTATE, and recovery', async () => {
  const c = await connect();
  try {
    await c.query('CREATE TABLE uniq (id int4 PRIMARY KEY, v text NOT NULL)');
    // Queued without awaiting: pg writes them back to back.
    const results = await Promise.allSettled([
      c.query('INSERT INTO uniq VALUES ($1, $2)', [1, 'a']),
      c.query('INSERT INTO uniq VALUES ($1, $2)', [1, 'dup']),
      c.query('SELECT count(*)::int AS n FROM uniq'),
      c.query('SELECT 1/0'),
      c.query('SELECT $1::text AS v', ['still fine']),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const dup = results[1].reason;
    assert.equal(dup.code, '23505');
    assert.equal(dup.constraint, 'uniq_pkey');
    assert.equal(dup.detail, 'Key (id)=(1) already exists.');
    assert.equal(results[2].value.rows[0].n, 1);
    assert.equal(results[3].reason.code, '22012');
    assert.equal(results[4].value.rows[0].v, 'still fine');
    await assert.rejects(c.query('SELECT nope FROM uniq'), { code: '42703' });
    await assert.rejects(c.query('INSERT INTO uniq VALUES ($1, $2)', ['x', 'y']), { code: '22P02' });
  } finally {
    await c.end();
  }
});

test('transactions commit and roll back', async () => {
  const c = await connect();
  try {
    await c.query('CREATE TABLE ledger (id serial PRIMARY KEY, amount int4 NOT NULL)');
    await c.query('BEGIN');
    await c.query('INSERT INTO ledger (amount) VALUES ($1)', [10]);
    await c.query('COMMIT');
    await c.query('BEGIN');
    await c.query('INSERT INTO ledger (amount) VALUES ($1)', [20]);
    await assert.rejects(c.query('INSERT INTO ledger (amount) VALUES (NULL)'), { code: '23502' });
    await assert.rejects(c.query('SELECT 1'), { code: '25P02' });
    await c.query('ROLLBACK');
    const r = await c.query('SELECT coalesce(sum(amount), 0)::int AS s FROM ledger');
    assert.equal(r.rows[0].s, 10);
  } finally {
    await c.end();
  }
});

test('a pool of connections writes concurrently', async () => {
  const pool = new pg.Pool({ max: 6 });
  try {
    await pool.query('CREATE TABLE hits (id serial PRIMARY KEY, worker int4 NOT NULL, n int4 NOT NULL)');
    const jobs = [];
    for (let w = 0; w < 6; w++) {
      for (let i = 0; i < 20; i++) {
        jobs.push(pool.query('INSERT INTO hits (worker, n) VALUES ($1, $2)', [w, i]));
      }
    }
    await Promise.all(jobs);
    const r = await pool.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, sum(n)::int AS s FROM hits');
    assert.deepEqual(r.rows[0], { n: 120, ids: 120, s: 6 * 190 });
  } finally {
    await pool.end();
  }
});
