package funcs

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Env is the deterministic context of the statement running on a connection.
type Env struct {
	// BlockTime is the transaction's fixed time (now()).
	BlockTime time.Time
	// Term and Seq identify the proposal (unique cluster-wide); Stmt is the
	// statement's ordinal within it. Together they seed randomness and ids.
	Term, Seq uint64
	Stmt      uint32
	// Seed is the transaction's random seed, fixed by the leader.
	Seed uint64
	// BackendPID is the session's process id (0 when replaying).
	BackendPID int64
	// Ctx is the running statement's context: cancellation and
	// statement_timeout end a pg_sleep.
	Ctx context.Context

	rng *rand.Rand
	// userSeed is what setseed() chose in this transaction (nil: none); it
	// replaces the entry's seed for the random values that follow.
	userSeed  *uint64
	effectNum uint32
	seqs      map[uint32]*seqState
	// currvals holds nextval results of the current transaction.
	currvals map[uint32]int64
	lastval  *int64
	// stmtSeqs is what the running statement did to currval/lastval, for
	// the session to keep (PostgreSQL's currval is per session).
	stmtSeqs SequenceValues
}

// SequenceValues are the currval and lastval values a statement set.
type SequenceValues struct {
	Currvals map[uint32]int64 // by sequence OID
	LastOID  uint32           // the sequence lastval reads, 0 if unchanged
}

// seqState is a sequence's row, cached for the duration of one statement.
type seqState struct {
	last                int64
	called              bool
	increment, min, max int64
	cycle               bool
	dirty               bool
}

// BeginStatement resets per-statement state for statement ordinal stmt.
func (e *Env) BeginStatement(stmt uint32) {
	e.Stmt = stmt
	e.effectNum = 0
	e.rng = nil
	e.userSeed = nil
	e.seqs = nil
	e.stmtSeqs = SequenceValues{}
}

// StatementSequenceValues returns the currval/lastval changes of the
// statement that ran last (nil Currvals when none).
func (e *Env) StatementSequenceValues() SequenceValues { return e.stmtSeqs }

func (e *Env) noteCurrval(oid uint32, v int64, last bool) {
	if e.currvals == nil {
		e.currvals = map[uint32]int64{}
	}
	e.currvals[oid] = v
	if e.stmtSeqs.Currvals == nil {
		e.stmtSeqs.Currvals = map[uint32]int64{}
	}
	e.stmtSeqs.Currvals[oid] = v
	if last {
		e.lastval = &v
		e.stmtSeqs.LastOID = oid
	}
}

// BeginTransaction resets per-transaction state.
func (e *Env) BeginTransaction(blockTime time.Time, term, seq, seed uint64) {
	e.BlockTime, e.Term, e.Seq, e.Seed = blockTime.UTC(), term, seq, seed
	e.currvals = nil
	e.lastval = nil
	e.BeginStatement(0)
}

func (e *Env) random() *rand.Rand {
	if e.rng == nil {
		seed := e.Seed
		if e.userSeed != nil {
			seed = *e.userSeed
		}
		var b [8]byte
		binary.BigEndian.PutUint32(b[:4], e.Stmt)
		e.rng = rand.New(rand.NewPCG(seed, seed^binary.BigEndian.Uint64(b[:])^0x9e3779b97f4a7c15))
	}
	return e.rng
}

// setseed is setseed(x): the random values after it in the statement come
// from a stream seeded by x and the statement's ordinal.
func (e *Env) setseed(v driver.Value) (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	x := asFloat(v)
	if x < -1 || x > 1 || math.IsNaN(x) {
		return nil, Error(pgerr.InvalidParameterValue, "setseed parameter %g is out of allowed range [-1,1]", x)
	}
	seed := math.Float64bits(x)
	e.userSeed, e.rng = &seed, nil
	return "", nil
}

func (e *Env) now() string { return e.BlockTime.Format(sqltype.TimestampLayout) }

// effectID derives the default id of the n-th effect a statement inserts
// from the proposal's identity, so it is unique and equal on every node.
func (e *Env) effectID() string {
	e.effectNum++
	var buf [28]byte
	binary.BigEndian.PutUint64(buf[0:], e.Term)
	binary.BigEndian.PutUint64(buf[8:], e.Seq)
	binary.BigEndian.PutUint32(buf[16:], e.Stmt)
	binary.BigEndian.PutUint32(buf[20:], e.effectNum)
	binary.BigEndian.PutUint32(buf[24:], 0x63687232) // "chr2"
	sum := sha256.Sum256(buf[:])
	return formatUUID(sum[:16], 8)
}

func (e *Env) uuid() string {
	var b [16]byte
	r := e.random()
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	return formatUUID(b[:], 4)
}

func formatUUID(b []byte, version byte) string {
	b[6] = (b[6] & 0x0f) | version<<4
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SequenceLoader reads sequence rows for a statement.
type SequenceLoader func(oids []uint32) (map[uint32]SequenceRow, error)

// SequenceRow is one _chr2_sequences row.
type SequenceRow struct {
	Last                int64
	Called              bool
	Increment, Min, Max int64
	Cycle               bool
}

// LoadSequences caches the rows of the sequences the statement may use.
func (e *Env) LoadSequences(oids []uint32, load SequenceLoader) error {
	if len(oids) == 0 {
		return nil
	}
	rows, err := load(oids)
	if err != nil {
		return err
	}
	e.seqs = make(map[uint32]*seqState, len(rows))
	for oid, r := range rows {
		e.seqs[oid] = &seqState{last: r.Last, called: r.Called, increment: r.Increment, min: r.Min, max: r.Max, cycle: r.Cycle}
	}
	return nil
}

// DirtySequences returns the sequences changed by the statement, for the
// executor to write back in the same transaction.
func (e *Env) DirtySequences() map[uint32]SequenceRow {
	var out map[uint32]SequenceRow
	for oid, s := range e.seqs {
		if !s.dirty {
			continue
		}
		if out == nil {
			out = map[uint32]SequenceRow{}
		}
		out[oid] = SequenceRow{Last: s.last, Called: s.called}
	}
	return out
}

func (e *Env) nextval(oid uint32) (int64, error) {
	s, ok := e.seqs[oid]
	if !ok {
		return 0, Error(pgerr.ObjectNotInPrerequisiteState, "sequence %d was not prepared for this statement", oid)
	}
	v := s.last
	if s.called {
		next := v + s.increment
		overflow := (s.increment > 0 && next < v) || (s.increment < 0 && next > v)
		if overflow || next > s.max || next < s.min {
			if !s.cycle {
				bound := "maximum"
				lim := s.max
				if s.increment < 0 {
					bound, lim = "minimum", s.min
				}
				return 0, Error(pgerr.SequenceGeneratorLimitExceeded, "nextval: reached %s value of sequence (%d)", bound, lim)
			}
			next = s.min
			if s.increment < 0 {
				next = s.max
			}
		}
		v = next
	}
	s.last, s.called, s.dirty = v, true, true
	e.noteCurrval(oid, v, true)
	return v, nil
}

func (e *Env) setval(oid uint32, v int64, called bool) (int64, error) {
	s, ok := e.seqs[oid]
	if !ok {
		return 0, Error(pgerr.ObjectNotInPrerequisiteState, "sequence %d was not prepared for this statement", oid)
	}
	if v < s.min || v > s.max {
		return 0, Error(pgerr.NumericValueOutOfRange, "setval: value %d is out of bounds for sequence (%d..%d)", v, s.min, s.max)
	}
	s.last, s.called, s.dirty = v, called, true
	if called { // as PostgreSQL: setval(…, true) is what currval reports next
		e.noteCurrval(oid, v, false)
	}
	return v, nil
}

// currval is the value nextval last gave for oid in this transaction, or
// else sessionVal: the session's value from earlier transactions, bound as
// a statement argument so that replay on followers sees the same value.
func (e *Env) currval(oid uint32, sessionVal driver.Value, name string) (driver.Value, error) {
	if v, ok := e.currvals[oid]; ok {
		return v, nil
	}
	if sessionVal != nil {
		return sessionVal, nil
	}
	return nil, Error(pgerr.ObjectNotInPrerequisiteState, "currval of sequence %q is not yet defined in this session", name)
}

// lastvalue is lastval(): this transaction's last nextval, or sessionVal.
func (e *Env) lastvalue(sessionVal driver.Value) (driver.Value, error) {
	if e.lastval != nil {
		return *e.lastval, nil
	}
	if sessionVal != nil {
		return sessionVal, nil
	}
	return nil, Error(pgerr.ObjectNotInPrerequisiteState, "lastval is not yet defined in this session")
}

// Error builds an error raised inside a SQLite function with its SQLSTATE.
func Error(code pgerr.Code, format string, args ...any) error {
	return fmt.Errorf("[chr2 %s] %s", code, fmt.Sprintf(format, args...))
}

// FromPG encodes a *pgerr.Error raised inside a SQLite function. Detail,
// table and constraint follow the message, separated by fieldSep.
func FromPG(err error) error {
	pe := pgerr.From(err)
	if pe.Detail == "" && pe.ConstraintName == "" && pe.TableName == "" {
		return fmt.Errorf("[chr2 %s] %s", pe.Code, pe.Message)
	}
	return fmt.Errorf("[chr2 %s] %s%c%s%c%s%c%s", pe.Code, pe.Message, fieldSep, pe.Detail, fieldSep, pe.TableName,
		fieldSep, pe.ConstraintName)
}

// fieldSep separates the optional fields of an encoded error.
const fieldSep = '\x1f'

// decodeFields splits an encoded error text into its fields.
func decodeFields(pe *pgerr.Error) *pgerr.Error {
	parts := strings.Split(pe.Message, string(fieldSep))
	if len(parts) == 4 {
		pe.Message, pe.Detail, pe.TableName, pe.ConstraintName = parts[0], parts[1], parts[2], parts[3]
	}
	return pe
}

// DecodeError finds a SQLSTATE-tagged message inside a SQLite error text.
func DecodeError(msg string) (*pgerr.Error, bool) {
	i := strings.Index(msg, "[chr2 ")
	if i < 0 || len(msg) < i+13 || msg[i+11] != ']' {
		return nil, false
	}
	code := pgerr.Code(msg[i+6 : i+11])
	text := strings.TrimSpace(msg[i+12:])
	// The driver appends the SQLite result code: " (1)" or " (SQLITE_…)".
	if j := strings.LastIndex(text, " ("); j >= 0 && strings.HasSuffix(text, ")") {
		if code := text[j+2 : len(text)-1]; strings.HasPrefix(code, "SQLITE_") || isDigits(code) {
			text = text[:j]
		}
	}
	return decodeFields(&pgerr.Error{Code: code, Message: text}), true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
