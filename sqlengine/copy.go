package sqlengine

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// COPY FROM STDIN inserts the client's rows through the writer in batches,
// all in the statement's transaction, so a COPY is one log entry (bounded
// by the writer's MaxEntryBytes: 54000 beyond). Each batch is one recorded
// statement whose single argument is the batch's rows as a JSON array of
// storage values:
//
//	INSERT INTO t (cols…, defaulted cols…)
//	SELECT json_extract(j.value, '$[0]'), …, <default SQL>…
//	FROM json_each(?1) AS j ORDER BY j.key
//
// so the entry holds the data once, not one SQL text per row, and followers
// insert the same rows in the same order (same rowids, same sequence
// values). bytea values travel as hex and are unhex()ed.
//
// COPY TO STDOUT runs the query like a SELECT and writes its rows.

// Batch bounds of COPY FROM (one recorded statement each).
const (
	copyBatchRows  = 5000
	copyBatchBytes = 1 << 20
)

func copyFormatOf(op *translate.CopyOp) copyFormat {
	f := copyFormat{csv: op.Format == "csv", delim: op.Delimiter[0], null: op.Null, header: op.Header}
	if f.csv {
		f.quote, f.escape = op.Quote[0], op.Escape[0]
		f.forceNull, f.forceNotNull = columnSet(op, op.ForceNull), columnSet(op, op.ForceNotNull)
	}
	return f
}

func columnSet(op *translate.CopyOp, names []string) map[int]bool {
	out := map[int]bool{}
	for _, n := range names {
		for i, c := range op.Columns {
			if c.Name == n {
				out[i] = true
			}
		}
	}
	return out
}

// copyInsertSQL renders the batch INSERT of a COPY FROM.
func copyInsertSQL(op *translate.CopyOp) string {
	cols := make([]string, 0, len(op.Columns)+len(op.Defaults))
	vals := make([]string, 0, cap(cols))
	for i, c := range op.Columns {
		cols = append(cols, quote(c.Name))
		v := "json_extract(\"j\".value, '$[" + strconv.Itoa(i) + "]')"
		if sqltype.StorageOf(c.Type) == sqltype.Blob {
			v = "unhex(" + v + ")"
		}
		if c.Type == pgval.NumericOID && c.TypMod >= 4 {
			v = "chr2_num_typmod(" + v + ", " + strconv.Itoa(int(c.TypMod)) + ")"
		}
		if c.Name == op.Rowid {
			v = "chr2_rowid_notnull(" + v + ", " + sqltype.QuoteString(c.Name) + ", " + sqltype.QuoteString(op.TableName) + ")"
		}
		vals = append(vals, v)
	}
	for _, d := range op.Defaults {
		cols = append(cols, quote(d.Name))
		vals = append(vals, d.SQL)
	}
	// WHERE true keeps SQLite from reading the upsert clause as a join's ON.
	return "INSERT INTO " + quote(op.Table) + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(vals, ", ") +
		` FROM json_each(?1) AS "j" WHERE true ORDER BY "j".key` + op.OnConflict
}

// copyBatch accumulates rows as JSON.
type copyBatch struct {
	buf    []byte
	rows   int
	starts []int // offset in buf of each row's JSON array
	lines  []int // line number of each row, for error context
}

func (b *copyBatch) add(row []any, line int) error {
	if b.rows == 0 {
		b.buf = append(b.buf[:0], '[')
		b.starts, b.lines = b.starts[:0], b.lines[:0]
	} else {
		b.buf = append(b.buf, ',')
	}
	b.starts = append(b.starts, len(b.buf))
	b.lines = append(b.lines, line)
	b.buf = append(b.buf, '[')
	for i, v := range row {
		if i > 0 {
			b.buf = append(b.buf, ',')
		}
		var err error
		if b.buf, err = appendJSONStorage(b.buf, v); err != nil {
			return err
		}
	}
	b.buf = append(b.buf, ']')
	b.rows++
	return nil
}

func (b *copyBatch) json() string { return string(append(b.buf, ']')) }

// rowJSON is a one-row batch holding row i.
func (b *copyBatch) rowJSON(i int) string {
	end := len(b.buf)
	if i+1 < b.rows {
		end = b.starts[i+1] - 1 // before the separating comma
	}
	return "[" + string(b.buf[b.starts[i]:end]) + "]"
}

// appendJSONStorage encodes one storage value for json_extract.
func appendJSONStorage(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		switch {
		case math.IsInf(x, 1):
			return append(dst, "9e999"...), nil
		case math.IsInf(x, -1):
			return append(dst, "-9e999"...), nil
		case math.IsNaN(x):
			return append(dst, "null"...), nil
		}
		return strconv.AppendFloat(dst, x, 'g', -1, 64), nil
	case string:
		b, err := json.Marshal(x)
		return append(dst, b...), err
	case []byte:
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, x)
		return append(dst, '"'), nil
	}
	return dst, pgerr.New(pgerr.InternalError, "COPY cannot encode a value of type %T", v)
}

func (s *session) copyFrom(ctx context.Context, st *statement, plan *translate.Plan, w pgwire.ResultWriter) (string, error) {
	op := plan.Copy
	if s.inBlock() && s.readOnly {
		return "", pgerr.New(pgerr.ReadOnlySQLTransaction, "cannot execute COPY FROM in a read-only transaction")
	}
	if s.forwarding() || !s.isLeader() {
		if s.e.getForwarder() == nil && !s.forwarding() {
			return "", clientError(ErrNotLeader)
		}
		return s.copyFromForwarded(ctx, op, w)
	}
	r, err := w.CopyIn(copyWireFormat(op))
	if err != nil {
		return "", err
	}
	n, err := s.copyRows(ctx, plan, r)
	if err != nil {
		_, _ = io.Copy(io.Discard, r) // the client may still be sending
		return "", err
	}
	return "COPY " + strconv.FormatInt(n, 10), nil
}

// copyWireFormat is the overall and per-column format of CopyIn/CopyOut.
func copyWireFormat(op *translate.CopyOp) (int16, []int16) {
	formats := make([]int16, len(op.Columns))
	if op.Format != "binary" {
		return 0, formats
	}
	for i := range formats {
		formats[i] = 1
	}
	return 1, formats
}

// copySource yields the rows of COPY FROM data as storage values.
type copySource struct {
	text   *copyReader
	binary *binaryCopyReader
	s      *session
	op     *translate.CopyOp
	row    []any
	line   int // line (text) or row (binary) number of the last row returned
}

func (s *session) newCopySource(op *translate.CopyOp, r io.Reader) *copySource {
	src := &copySource{s: s, op: op, row: make([]any, len(op.Columns))}
	if op.Format == "binary" {
		types := make([]pgval.OID, len(op.Columns))
		for i, c := range op.Columns {
			types[i] = c.Type
		}
		src.binary = newBinaryCopyReader(r, types)
	} else {
		src.text = newCopyReader(r, copyFormatOf(op), len(op.Columns))
		for _, c := range op.Columns {
			src.text.names = append(src.text.names, c.Name)
		}
	}
	return src
}

// next returns the next row (reused between calls); errCopyEnd at the end.
// Errors carry PostgreSQL's context "COPY t, line N".
func (src *copySource) next() ([]any, error) {
	row, err := src.read()
	if err != nil && !errors.Is(err, errCopyEnd) {
		pe := pgerr.From(err)
		if pe.Where == "" {
			pe.WithWhere("COPY %s, line %d", src.op.TableName, src.line)
		}
		return nil, pe
	}
	return row, err
}

func (src *copySource) read() ([]any, error) {
	if src.binary != nil {
		src.line++
		vals, err := src.binary.next()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			sv, err := sqltype.ToStorage(src.op.Columns[i].Type, v)
			if err != nil {
				return nil, err
			}
			src.row[i] = sv
		}
		return src.row, nil
	}
	fields, err := src.text.next()
	src.line = src.text.line
	if err != nil {
		return nil, err
	}
	for i, f := range fields {
		if src.row[i], err = src.s.copyValue(src.op, i, f, src.line); err != nil {
			return nil, err
		}
	}
	return src.row, nil
}

func (s *session) isLeader() bool {
	leader, _ := s.e.Leadership()
	return leader
}

// copyRows reads, converts and inserts the rows of a COPY FROM.
func (s *session) copyRows(ctx context.Context, plan *translate.Plan, r io.Reader) (int64, error) {
	op := plan.Copy
	src := s.newCopySource(op, r)
	var batch copyBatch
	var total int64
	for {
		row, err := src.next()
		if errors.Is(err, errCopyEnd) {
			break
		}
		if err != nil {
			return 0, err
		}
		if err := batch.add(row, src.line); err != nil {
			return 0, err
		}
		if batch.rows >= copyBatchRows || len(batch.buf) >= copyBatchBytes {
			n, err := s.copyFlush(ctx, plan, &batch)
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	n, err := s.copyFlush(ctx, plan, &batch)
	return total + n, err
}

// copyFlush inserts a batch as one recorded statement. When it fails, the
// rows are retried one by one (unrecorded: the COPY fails either way, and
// its transaction with it) to name the failing line as PostgreSQL does.
func (s *session) copyFlush(ctx context.Context, plan *translate.Plan, batch *copyBatch) (int64, error) {
	if batch.rows == 0 {
		return 0, nil
	}
	defer func() { batch.rows = 0 }()
	op := plan.Copy
	sql := copyInsertSQL(op)
	rec := stmtRecord{Seqs: plan.Sequences, Steps: []stepRecord{{Flags: stepCount, SQL: sql, Args: []any{batch.json()}}}}
	if plan.Effects {
		rec.Flags |= flagEffects
	}
	tx, err := s.writeTxn(ctx)
	if err != nil {
		return 0, clientError(err)
	}
	res, err := tx.Exec(ctx, rec, true, nil)
	if err == nil {
		return res.affected, nil
	}
	line := 0
	if batch.rows == 1 {
		line = batch.lines[0]
	} else {
		for i := 0; i < batch.rows; i++ {
			one := stmtRecord{Seqs: plan.Sequences, Steps: []stepRecord{{Flags: stepCount, SQL: sql, Args: []any{batch.rowJSON(i)}}}}
			if _, rowErr := tx.Exec(ctx, one, false, nil); rowErr != nil {
				err, line = rowErr, batch.lines[i]
				break
			}
		}
	}
	pe := pgerr.From(mapError(err, s.catalog()))
	if line > 0 && pe.Where == "" {
		pe.WithWhere("COPY %s, line %d", op.TableName, line)
	}
	return 0, pe
}

// copyValue converts one field to the storage form of its column.
func (s *session) copyValue(op *translate.CopyOp, i int, f *string, line int) (any, error) {
	if f == nil {
		return nil, nil
	}
	col := op.Columns[i]
	v, err := pgval.Parse(col.Type, *f, s.settings.loc)
	if err == nil {
		v, err = sqltype.ToStorage(col.Type, v)
	}
	if err != nil {
		pe := pgerr.From(err)
		return nil, pgerr.New(pe.Code, "%s", pe.Message).
			WithWhere("COPY %s, line %d, column %s: \"%s\"", op.TableName, line, col.Name, truncateForMessage(*f))
	}
	return v, nil
}

func truncateForMessage(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// copyFromForwarded runs a COPY FROM on a follower: the rows are read and
// checked here and inserted on the leader through the forwarding
// connection, as multi-row INSERTs with parameters, in one transaction.
func (s *session) copyFromForwarded(ctx context.Context, op *translate.CopyOp, w pgwire.ResultWriter) (string, error) {
	r, err := w.CopyIn(copyWireFormat(op))
	if err != nil {
		return "", err
	}
	n, err := s.copyForwardRows(ctx, op, r)
	if err != nil {
		_, _ = io.Copy(io.Discard, r)
		return "", err
	}
	return "COPY " + strconv.FormatInt(n, 10), nil
}

func (s *session) copyForwardRows(ctx context.Context, op *translate.CopyOp, r io.Reader) (int64, error) {
	if !s.forwarding() {
		if err := s.startForwarding(ctx); err != nil {
			return 0, clientError(err)
		}
	}
	ownBlock := !s.inBlock()
	if ownBlock {
		if _, err := s.up.Exec(ctx, "BEGIN", nil, nil, discardRows, nil); err != nil {
			s.dropUpstream()
			return 0, err
		}
	}
	n, err := s.copyForwardBatches(ctx, op, r)
	if ownBlock {
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		s.upActive = false
		if _, endErr := s.up.Exec(ctx, end, nil, nil, discardRows, nil); endErr != nil && err == nil {
			err = endErr
		}
		if err == nil {
			s.catchUp(ctx)
		}
	}
	return n, err
}

// copyForwardBatches sends the rows as INSERT … VALUES ($1, $2, …), … of up
// to copyForwardRows rows each.
func (s *session) copyForwardBatches(ctx context.Context, op *translate.CopyOp, r io.Reader) (int64, error) {
	const forwardRows = 500
	src := s.newCopySource(op, r)
	cols := make([]string, len(op.Columns))
	for i, c := range op.Columns {
		cols[i] = quote(c.Name)
	}
	qualified := quote(op.TableName)
	if rel, ok := s.catalog().Relation(op.TableOID); ok {
		qualified = quote(rel.Namespace.Name) + "." + quote(rel.Name)
	}
	var params []any
	var oids []uint32
	var total int64
	send := func() error {
		if len(params) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + qualified + " (" + strings.Join(cols, ", ") + ") VALUES ")
		for i := 0; i < len(params); i += len(cols) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("$" + strconv.Itoa(i+j+1))
			}
			b.WriteByte(')')
		}
		if _, err := s.up.Exec(ctx, b.String(), oids, params, discardRows, nil); err != nil {
			return err
		}
		total += int64(len(params) / len(cols))
		params, oids = params[:0], oids[:0]
		return nil
	}
	for {
		row, err := src.next()
		if errors.Is(err, errCopyEnd) {
			return total, send()
		}
		if err != nil {
			return 0, err
		}
		for i, v := range row {
			pv, err := sqltype.FromStorage(op.Columns[i].Type, v)
			if err != nil {
				return 0, err
			}
			params = append(params, pv)
			oids = append(oids, op.Columns[i].Type)
		}
		if len(params) >= forwardRows*len(cols) {
			if err := send(); err != nil {
				return 0, err
			}
		}
	}
}

func (s *session) copyTo(ctx context.Context, plan *translate.Plan, params []any, w pgwire.ResultWriter) (string, error) {
	op := plan.Copy
	f := copyFormatOf(op)
	out, err := w.CopyOut(copyWireFormat(op))
	if err != nil {
		return "", err
	}
	var buf []byte
	if op.Format == "binary" {
		return s.copyToBinary(ctx, op, params, out)
	}
	if f.header && f.csv {
		names := make([]*string, len(op.Columns))
		for i := range op.Columns {
			names[i] = &op.Columns[i].Name
		}
		buf = appendCopyRow(buf, names, f)
	}
	var n int64
	row := make([]*string, len(op.Columns))
	texts := make([]string, len(op.Columns))
	emit := func(vals []any) error {
		for i, v := range vals {
			if v == nil {
				row[i] = nil
				continue
			}
			t, err := pgval.Format(op.Columns[i].Type, v, s.settings.loc)
			if err != nil {
				return err
			}
			texts[i] = t
			row[i] = &texts[i]
		}
		buf = appendCopyRow(buf, row, f)
		n++
		if len(buf) >= 64<<10 {
			_, err := out.Write(buf)
			buf = buf[:0]
			return err
		}
		return nil
	}
	if _, err := s.runQuery(ctx, op.Query, 0, params, emit); err != nil {
		return "", clientError(err)
	}
	if len(buf) > 0 {
		if _, err := out.Write(buf); err != nil {
			return "", err
		}
	}
	return "COPY " + strconv.FormatInt(n, 10), out.Close()
}

// copyToBinary writes COPY TO STDOUT (FORMAT binary).
func (s *session) copyToBinary(ctx context.Context, op *translate.CopyOp, params []any, out io.WriteCloser) (string, error) {
	types := make([]pgval.OID, len(op.Columns))
	for i, c := range op.Columns {
		types[i] = c.Type
	}
	buf := appendBinaryCopyHeader(nil)
	var n int64
	emit := func(vals []any) error {
		var err error
		if buf, err = appendBinaryCopyRow(buf, vals, types); err != nil {
			return err
		}
		n++
		if len(buf) >= 64<<10 {
			_, err := out.Write(buf)
			buf = buf[:0]
			return err
		}
		return nil
	}
	if _, err := s.runQuery(ctx, op.Query, 0, params, emit); err != nil {
		return "", clientError(err)
	}
	buf = appendBinaryCopyTrailer(buf)
	if _, err := out.Write(buf); err != nil {
		return "", err
	}
	return "COPY " + strconv.FormatInt(n, 10), out.Close()
}
