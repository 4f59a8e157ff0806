package sqlengine

import (
	"github.com/chr2sql/chr2sql/sqlengine/funcs"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// Session sequence values. PostgreSQL's currval and lastval belong to the
// session and outlive its transactions; chr2sql's Env only sees one
// transaction (the writer's connection serves every session), so:
//
//  1. After each statement on the writer, the session keeps what that
//     statement's nextval/setval calls set (funcs.SequenceValues).
//  2. A plan that reads currval/lastval lists the sequences
//     (Plan.SessionSeqs); the session binds its values after the
//     statement's parameters, so the recorded steps carry them and
//     followers replaying a write compute the same result.
//  3. A session that forwards its writes to the leader has its values in
//     its session there: its reads of currval/lastval are forwarded too.
//
// The session's values of a failed statement are not kept. The sequence
// advances themselves survive rollback and failure, as in PostgreSQL: the
// writer commits them as their own entry (keepSequencesLocked, txn.go).

// seqValues is one session's currval per sequence and its lastval.
type seqValues struct {
	currvals map[uint32]int64
	last     uint32 // the sequence lastval reads, 0 if none
}

// record keeps what a statement set.
func (v *seqValues) record(sv funcs.SequenceValues) {
	if len(sv.Currvals) == 0 {
		return
	}
	if v.currvals == nil {
		v.currvals = map[uint32]int64{}
	}
	for oid, val := range sv.Currvals {
		v.currvals[oid] = val
	}
	if sv.LastOID != 0 {
		v.last = sv.LastOID
	}
}

// has reports whether the session holds every value in oids.
func (v *seqValues) has(oids []uint32) bool {
	for _, oid := range oids {
		if oid == 0 {
			oid = v.last
		}
		if _, ok := v.currvals[oid]; !ok {
			return false
		}
	}
	return true
}

// bind appends the values plan reads to the arguments of the steps that
// read parameters (NULL for a value the session has not set).
func (v *seqValues) bind(plan *translate.Plan, steps []stepRecord) {
	if len(plan.SessionSeqs) == 0 {
		return
	}
	extra := make([]any, len(plan.SessionSeqs))
	for i, oid := range plan.SessionSeqs {
		if oid == 0 {
			oid = v.last
		}
		if val, ok := v.currvals[oid]; ok && oid != 0 {
			extra[i] = val
		}
	}
	for i := range steps {
		if i < len(plan.Steps) && len(plan.Steps[i].Args) > 0 {
			steps[i].Args = append(append([]any(nil), steps[i].Args...), extra...)
		}
	}
}
