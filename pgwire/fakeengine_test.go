package pgwire

// This file is test-only: fakeEngine implements Engine below the pgwire
// seam with a tiny command language instead of SQL, so protocol behaviour
// can be tested without the real SQL layer.
//
// Statements are separated by ';'. Commands (first word, case-insensitive):
//
//	series N           column n int8, rows 1..N
//	wide N             column w text, N rows of 1 KiB
//	echo $1::T $2 ...  one row echoing the parameters; T is a pg_type name
//	                   (default text); parameter types come from the hints
//	                   unless the client declared them
//	typed T TEXT...    one column of type T with the value parsed from TEXT
//	types              one row with a column of each common type
//	sleep              blocks until Session.Cancel or ctx is done → 57014
//	error CODE MSG     fails with that SQLSTATE; "fullerror" sets every field
//	internal           fails with a non-pgerr error whose text must not leak
//	panic              panics
//	begin/commit/rollback, fail (error; 'E' inside a transaction block)
//	set NAME VALUE     changes a reported parameter; tag SET
//	notice MSG         sends a NoticeResponse
//	copy in            COPY FROM STDIN, stores the data, tag "COPY <lines>"
//	copy in partial    reads one byte, then fails
//	copy in early      reads one byte, then succeeds (pgwire drains the rest)
//	copy out N         COPY TO STDOUT with N lines
//	badrow             writes a row with the wrong number of values
//	nocols             no result columns; tag DO
//	syncfail           the next Session.Sync fails

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

type fakeEngine struct {
	mu            sync.Mutex
	sessions      []*fakeSession
	newSessionErr error
	copied        []string
	// noDanger disables panic and sleep (for the fuzzer).
	noDanger bool
	// rowsWritten counts rows handed to WriteRow successfully.
	rowsWritten atomic.Int64
}

var _ Engine = (*fakeEngine)(nil)

func (e *fakeEngine) NewSession(ctx context.Context, info SessionInfo) (Session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.newSessionErr != nil {
		return nil, e.newSessionErr
	}
	s := &fakeSession{eng: e, info: info, tx: 'I', cancelCh: make(chan struct{}, 1)}
	s.params = []Param{
		{"server_version", "16.4 (fake)"}, {"server_encoding", "UTF8"}, {"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"}, {"integer_datetimes", "on"}, {"standard_conforming_strings", "on"},
		{"TimeZone", "UTC"}, {"IntervalStyle", "postgres"}, {"application_name", info.Params["application_name"]},
	}
	e.sessions = append(e.sessions, s)
	return s, nil
}

func (e *fakeEngine) allSessions() []*fakeSession {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*fakeSession(nil), e.sessions...)
}

// runningSession returns a session whose statement is executing, or nil.
func (e *fakeEngine) runningSession() *fakeSession {
	for _, s := range e.allSessions() {
		if s.running.Load() {
			return s
		}
	}
	return nil
}

func (e *fakeEngine) lastSession() *fakeSession {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.sessions) == 0 {
		return nil
	}
	return e.sessions[len(e.sessions)-1]
}

type fakeSession struct {
	eng      *fakeEngine
	info     SessionInfo
	mu       sync.Mutex // guards params (read by tests)
	params   []Param
	tx       byte
	cancelCh chan struct{}
	syncFail bool
	syncs    int
	closed   atomic.Bool
	running  atomic.Bool

	protocolErrors atomic.Int64
}

var _ Session = (*fakeSession)(nil)

func (s *fakeSession) Parse(ctx context.Context, sql string, paramOIDs []uint32) ([]Statement, error) {
	var out []Statement
	for _, part := range strings.Split(sql, ";") {
		text := strings.TrimSpace(part)
		if text == "" {
			continue
		}
		st, err := s.newStatement(text, paramOIDs)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *fakeSession) Sync(ctx context.Context) error {
	s.syncs++
	if s.syncFail {
		s.syncFail = false
		return pgerr.New(pgerr.SerializationFailure, "could not serialize access")
	}
	return nil
}

func (s *fakeSession) TxStatus() byte { return s.tx }

func (s *fakeSession) ParameterStatus() []Param {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Param(nil), s.params...)
}

func (s *fakeSession) setParam(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.params {
		if s.params[i].Name == name {
			s.params[i].Value = value
			return
		}
	}
	s.params = append(s.params, Param{name, value})
}

func (s *fakeSession) Cancel() {
	select {
	case s.cancelCh <- struct{}{}:
	default:
	}
}

func (s *fakeSession) Close() { s.closed.Store(true) }

var _ ProtocolErrorObserver = (*fakeSession)(nil)

// ProtocolError fails an open transaction block, as PostgreSQL does.
func (s *fakeSession) ProtocolError(err *pgerr.Error) {
	s.protocolErrors.Add(1)
	if s.tx == 'T' {
		s.tx = 'E'
	}
}

type fakeStatement struct {
	s         *fakeSession
	sql       string
	cmd       string
	args      []string
	paramOIDs []uint32
	cols      []Column
}

func col(name string, oid uint32) Column {
	return Column{Name: name, TypeOID: oid, TypeModifier: -1}
}

func (s *fakeSession) newStatement(text string, declared []uint32) (*fakeStatement, error) {
	fields := strings.Fields(text)
	st := &fakeStatement{s: s, sql: text, cmd: strings.ToLower(fields[0]), args: fields[1:]}
	switch st.cmd {
	case "series":
		st.cols = []Column{col("n", pgval.Int8OID)}
	case "wide":
		st.cols = []Column{col("w", pgval.TextOID)}
	case "echo":
		for i, a := range st.args {
			oid := pgval.TextOID
			if _, hint, ok := strings.Cut(a, "::"); ok {
				ti, known := pgval.LookupName(hint)
				if !known {
					return nil, pgerr.New(pgerr.UndefinedObject, "type \"%s\" does not exist", hint)
				}
				oid = ti.OID
			}
			if i < len(declared) && declared[i] != 0 {
				oid = declared[i]
			}
			st.paramOIDs = append(st.paramOIDs, oid)
			st.cols = append(st.cols, col(fmt.Sprintf("p%d", i+1), oid))
		}
	case "typed":
		if len(st.args) < 1 {
			return nil, pgerr.New(pgerr.SyntaxError, "typed needs a type")
		}
		ti, ok := pgval.LookupName(st.args[0])
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedObject, "type \"%s\" does not exist", st.args[0])
		}
		st.cols = []Column{col("v", ti.OID)}
	case "types":
		st.cols = typesColumns
	case "badrow":
		st.cols = []Column{col("a", pgval.Int4OID), col("b", pgval.Int4OID)}
	case "badvalue":
		st.cols = []Column{col("a", pgval.Int4OID)}
	case "parseerror":
		return nil, pgerr.New(pgerr.SyntaxError, "syntax error at or near \"parseerror\"").WithPosition(1)
	}
	return st, nil
}

var typesColumns = []Column{
	col("b", pgval.BoolOID), col("i2", pgval.Int2OID), col("i4", pgval.Int4OID), col("i8", pgval.Int8OID),
	col("f4", pgval.Float4OID), col("f8", pgval.Float8OID), col("t", pgval.TextOID), col("by", pgval.ByteaOID),
	col("n", pgval.NumericOID), col("u", pgval.UUIDOID), col("d", pgval.DateOID), col("ts", pgval.TimestampOID),
	col("tz", pgval.TimestamptzOID), col("j", pgval.JSONOID), col("jb", pgval.JSONBOID), col("ai", pgval.Int4ArrayOID),
	col("at", pgval.TextArrayOID), col("iv", pgval.IntervalOID), col("tm", pgval.TimeOID), col("nul", pgval.TextOID),
}

var typesRow = []any{
	true, int64(-2), int64(40000), int64(1) << 40, 1.5, 0.1, "héllo", []byte{0xde, 0xad},
	"12345.678", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
	time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	`{"b": 1}`, `{"a": [1, 2]}`, []any{int64(1), nil, int64(3)}, []any{"x y", "z"}, "1 day 02:03:04", "10:11:12.5", nil,
}

func (st *fakeStatement) ParamOIDs() []uint32 { return st.paramOIDs }
func (st *fakeStatement) Columns() []Column   { return st.cols }
func (st *fakeStatement) SQL() string         { return st.sql }

func (st *fakeStatement) Bind(ctx context.Context, params []any) (Portal, error) {
	if len(params) != len(st.paramOIDs) {
		return nil, pgerr.New(pgerr.ProtocolViolation, "wrong number of parameters: %d for %d", len(params), len(st.paramOIDs))
	}
	return &fakePortal{st: st, params: params}, nil
}

type fakePortal struct {
	st     *fakeStatement
	params []any
	next   int64 // series cursor
	closed bool
}

func (p *fakePortal) Columns() []Column { return p.st.cols }
func (p *fakePortal) Close()            { p.closed = true }

func (p *fakePortal) Execute(ctx context.Context, maxRows int, w ResultWriter) (string, bool, error) {
	s := p.st.s
	select { // a stale cancel must not hit a later statement
	case <-s.cancelCh:
	default:
	}
	s.running.Store(true)
	defer s.running.Store(false)
	if s.tx == 'E' && p.st.cmd != "rollback" && p.st.cmd != "commit" {
		return "", false, pgerr.New(pgerr.InFailedSQLTransaction,
			"current transaction is aborted, commands ignored until end of transaction block")
	}
	tag, suspended, err := p.run(ctx, maxRows, w)
	if err != nil && s.tx == 'T' {
		s.tx = 'E'
	}
	return tag, suspended, err
}

func (p *fakePortal) argInt(i int, def int64) int64 {
	if i < len(p.st.args) {
		if v, err := strconv.ParseInt(p.st.args[i], 10, 64); err == nil {
			return v
		}
	}
	return def
}

func (p *fakePortal) run(ctx context.Context, maxRows int, w ResultWriter) (string, bool, error) {
	s, st := p.st.s, p.st
	switch st.cmd {
	case "series", "wide":
		return p.series(maxRows, w)
	case "echo":
		if err := p.writeRow(w, p.params); err != nil {
			return "", false, err
		}
		return "SELECT 1", false, nil
	case "typed":
		v, err := pgval.Parse(st.cols[0].TypeOID, strings.Join(st.args[1:], " "), time.UTC)
		if err != nil {
			return "", false, err
		}
		if err := p.writeRow(w, []any{v}); err != nil {
			return "", false, err
		}
		return "SELECT 1", false, nil
	case "types":
		if err := p.writeRow(w, typesRow); err != nil {
			return "", false, err
		}
		return "SELECT 1", false, nil
	case "sleep":
		return p.sleep(ctx)
	case "error", "fullerror":
		return "", false, p.failure()
	case "internal":
		return "", false, errors.New("open /secret/path/db.sqlite: permission denied")
	case "panic":
		if s.eng.noDanger {
			return "", false, errors.New("panic disabled")
		}
		panic("fake engine panic")
	case "begin", "commit", "rollback":
		return p.txCommand()
	case "fail":
		return "", false, pgerr.New(pgerr.DivisionByZero, "division by zero")
	case "set":
		if len(st.args) < 2 {
			return "", false, pgerr.New(pgerr.SyntaxError, "set needs a name and a value")
		}
		s.setParam(st.args[0], strings.Join(st.args[1:], " "))
		return "SET", false, nil
	case "notice":
		w.Notice(&pgerr.Error{Code: pgerr.Warning, Severity: pgerr.SeverityWarning, Message: strings.Join(st.args, " ")})
		return "NOTICE", false, nil
	case "copy":
		return p.copy(w)
	case "badrow":
		return "", false, w.WriteRow([]any{int64(1)})
	case "badvalue":
		return "", false, w.WriteRow([]any{struct{}{}})
	case "syncfail":
		s.syncFail = true
		return "SELECT 0", false, nil
	case "nocols":
		return "DO", false, nil
	}
	return "", false, pgerr.New(pgerr.SyntaxError, "unknown fake command \"%s\"", st.cmd)
}

func (p *fakePortal) writeRow(w ResultWriter, row []any) error {
	if err := w.WriteRow(row); err != nil {
		return err
	}
	p.st.s.eng.rowsWritten.Add(1)
	return nil
}

var wideValue = strings.Repeat("x", 1024)

func (p *fakePortal) series(maxRows int, w ResultWriter) (string, bool, error) {
	total := p.argInt(0, 0)
	sent := 0
	row := make([]any, 1) // reused: WriteRow does not retain it
	for p.next < total {
		if maxRows > 0 && sent == maxRows {
			return "", true, nil
		}
		p.next++
		row[0] = p.next
		if p.st.cmd == "wide" {
			row[0] = wideValue
		}
		if err := p.writeRow(w, row); err != nil {
			return "", false, err
		}
		sent++
	}
	return "SELECT " + strconv.Itoa(sent), false, nil
}

func (p *fakePortal) sleep(ctx context.Context) (string, bool, error) {
	if p.st.s.eng.noDanger {
		return "SELECT 0", false, nil
	}
	select {
	case <-p.st.s.cancelCh:
		return "", false, pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
	case <-ctx.Done():
		return "", false, ctx.Err()
	case <-time.After(30 * time.Second):
		return "", false, errors.New("fake sleep was never cancelled")
	}
}

func (p *fakePortal) copy(w ResultWriter) (string, bool, error) {
	args := p.st.args
	if len(args) > 0 && args[0] == "out" {
		n := p.argInt(1, 0)
		// One text column, as a real COPY of a one-column table announces:
		// libpq (15.20 and later) refuses a COPY response with no columns.
		wc, err := w.CopyOut(0, []int16{0})
		if err != nil {
			return "", false, err
		}
		for i := int64(1); i <= n; i++ {
			if _, err := fmt.Fprintf(wc, "line %d\n", i); err != nil {
				return "", false, err
			}
		}
		return "COPY " + strconv.FormatInt(n, 10), false, wc.Close()
	}
	r, err := w.CopyIn(0, []int16{0})
	if err != nil {
		return "", false, err
	}
	mode := ""
	if len(args) > 1 {
		mode = args[1]
	}
	if mode == "partial" || mode == "early" {
		var one [1]byte
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return "", false, err
		}
		if mode == "partial" {
			return "", false, pgerr.New(pgerr.BadCopyFileFormat, "extra data after last expected column")
		}
		return "COPY 1", false, nil
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return "", false, err
	}
	p.st.s.eng.mu.Lock()
	p.st.s.eng.copied = append(p.st.s.eng.copied, string(data))
	p.st.s.eng.mu.Unlock()
	return "COPY " + strconv.Itoa(strings.Count(string(data), "\n")), false, nil
}

func (p *fakePortal) txCommand() (string, bool, error) {
	if p.st.cmd == "begin" {
		p.st.s.tx = 'T'
	} else {
		p.st.s.tx = 'I'
	}
	return strings.ToUpper(p.st.cmd), false, nil
}

func (p *fakePortal) failure() error {
	if p.st.cmd == "fullerror" {
		e := pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint \"t_pkey\"").
			WithDetail("Key (id)=(1) already exists.").WithHint("Pick another id.").WithPosition(7).
			WithConstraint("t", "t_pkey")
		e.SchemaName, e.ColumnName, e.DataTypeName = "public", "id", "integer"
		return e
	}
	code, msg := "XX000", "error"
	if len(p.st.args) > 0 {
		code, msg = p.st.args[0], strings.Join(p.st.args[1:], " ")
	}
	return pgerr.New(pgerr.Code(code), "%s", msg)
}
