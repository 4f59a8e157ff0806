package sqlengine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Body of statement entries (every kind sqlengine writes), after the
// entry envelope:
//
//	uvarint ntx
//	per transaction:
//	  varint  block time (unix µs)
//	  uvarint seed
//	  uvarint nstmt
//	  per statement:
//	    byte    flags (flagInternal, flagSchemaChange, flagEffects)
//	    uvarint nseq, then nseq × uvarint sequence OID
//	    uvarint nstep, then per step: byte step flags (stepRows, stepCount, stepFeed),
//	            string SQL, uvarint nargs, args
//	    8 bytes result digest
//	    string  expected SQLSTATE ("" = success)
//	string: uvarint length + bytes; arg: tag byte (0 NULL, 1 int64 as varint,
//	2 float64 bits as 8 bytes, 3 text string, 4 blob string).
//
// Encoding is deterministic: the same records always give the same bytes.

const (
	flagInternal     = 1 << 0
	flagSchemaChange = 1 << 1
	flagEffects      = 1 << 2 // the statement inserted into chr2.effects
)

// txRecord is one committed transaction as it travels in the log.
type txRecord struct {
	BlockTime int64
	Seed      uint64
	Stmts     []stmtRecord
}

// stmtRecord is one statement: its SQLite steps with bound storage values
// and the digest of what the leader observed.
type stmtRecord struct {
	Flags   byte
	Seqs    []uint32
	Steps   []stepRecord
	Digest  uint64
	ErrCode string
}

type stepRecord struct {
	Flags byte
	SQL   string
	Args  []any
}

// Step flags: which step's rows are the result and which step's change
// count is the row count; both feed the digest.
// stepFeed marks a step whose rows are bound, one row at a time, as the
// arguments of the step after it (see runFeed).
const (
	stepRows  = 1 << 0
	stepCount = 1 << 1
	stepFeed  = 1 << 2
)

var errBadRecord = errors.New("sqlengine: malformed statement record")

func encodeTxs(txs []txRecord) []byte {
	b := make([]byte, 0, 256)
	b = binary.AppendUvarint(b, uint64(len(txs)))
	for _, tx := range txs {
		b = binary.AppendVarint(b, tx.BlockTime)
		b = binary.AppendUvarint(b, tx.Seed)
		b = binary.AppendUvarint(b, uint64(len(tx.Stmts)))
		for _, st := range tx.Stmts {
			b = appendStmt(b, st)
		}
	}
	return b
}

func appendStmt(b []byte, st stmtRecord) []byte {
	b = append(b, st.Flags)
	b = binary.AppendUvarint(b, uint64(len(st.Seqs)))
	for _, s := range st.Seqs {
		b = binary.AppendUvarint(b, uint64(s))
	}
	b = binary.AppendUvarint(b, uint64(len(st.Steps)))
	for _, step := range st.Steps {
		b = append(b, step.Flags)
		b = appendString(b, step.SQL)
		b = binary.AppendUvarint(b, uint64(len(step.Args)))
		for _, a := range step.Args {
			b = appendArg(b, a)
		}
	}
	b = binary.BigEndian.AppendUint64(b, st.Digest)
	return appendString(b, st.ErrCode)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendArg(b []byte, a any) []byte {
	switch x := a.(type) {
	case nil:
		return append(b, 0)
	case int64:
		return binary.AppendVarint(append(b, 1), x)
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 2), math.Float64bits(x))
	case string:
		return appendString(append(b, 3), x)
	case []byte:
		return appendString(append(b, 4), string(x))
	}
	panic(fmt.Sprintf("sqlengine: cannot encode storage value of type %T", a))
}

// decoder reads a record body and remembers the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errBadRecord
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks it against the bytes left, so a corrupt
// count cannot make the decoder allocate without bound.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.fail()
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) string() string { return string(d.bytes(d.count())) }

func (d *decoder) arg() any {
	tag := d.bytes(1)
	if d.err != nil {
		return nil
	}
	switch tag[0] {
	case 0:
		return nil
	case 1:
		return d.varint()
	case 2:
		raw := d.bytes(8)
		if d.err != nil {
			return nil
		}
		return math.Float64frombits(binary.BigEndian.Uint64(raw))
	case 3:
		return d.string()
	case 4:
		return []byte(d.string())
	}
	d.fail()
	return nil
}

func decodeTxs(body []byte) ([]txRecord, error) {
	d := &decoder{b: body}
	ntx := d.count()
	txs := make([]txRecord, 0, ntx)
	for i := 0; i < ntx && d.err == nil; i++ {
		tx := txRecord{BlockTime: d.varint(), Seed: d.uvarint()}
		nst := d.count()
		for j := 0; j < nst && d.err == nil; j++ {
			tx.Stmts = append(tx.Stmts, d.stmt())
		}
		txs = append(txs, tx)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return txs, d.err
}

func (d *decoder) stmt() stmtRecord {
	var st stmtRecord
	if f := d.bytes(1); d.err == nil {
		st.Flags = f[0]
	}
	nseq := d.count()
	for k := 0; k < nseq && d.err == nil; k++ {
		st.Seqs = append(st.Seqs, uint32(d.uvarint()))
	}
	nstep := d.count()
	for k := 0; k < nstep && d.err == nil; k++ {
		var step stepRecord
		if f := d.bytes(1); d.err == nil {
			step.Flags = f[0]
		}
		step.SQL = d.string()
		nargs := d.count()
		for a := 0; a < nargs && d.err == nil; a++ {
			step.Args = append(step.Args, d.arg())
		}
		st.Steps = append(st.Steps, step)
	}
	if raw := d.bytes(8); d.err == nil {
		st.Digest = binary.BigEndian.Uint64(raw)
	}
	st.ErrCode = d.string()
	return st
}
