package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

func (t *translator) transaction(ts *pg.TransactionStmt) (*Plan, error) {
	op := &TxOp{Savepoint: ts.SavepointName, Chain: ts.Chain}
	var tag string
	switch ts.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		op.Kind, tag = TxBegin, "BEGIN"
		if ts.Kind == pg.TransactionStmtKind_TRANS_STMT_START {
			tag = "START TRANSACTION"
		}
		ro, iso, err := readOnlyOption(ts.Options)
		if err != nil {
			return nil, err
		}
		op.ReadOnly, op.Isolation = ro, iso
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		op.Kind, tag = TxCommit, "COMMIT"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		op.Kind, tag = TxRollback, "ROLLBACK"
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		op.Kind, tag = TxSavepoint, "SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		op.Kind, tag = TxRelease, "RELEASE"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		op.Kind, tag = TxRollbackTo, "ROLLBACK"
	default:
		return nil, pgerr.Unsupported("two-phase commit")
	}
	return &Plan{Kind: KindTx, Tag: tag, Tx: op}, nil
}

// readOnlyOption reads BEGIN's transaction modes. Every isolation level is
// accepted: chr2sql always runs transactions serializably, which satisfies
// the guarantees of each weaker level.
func readOnlyOption(opts []*pg.Node) (bool, string, error) {
	ro, iso := false, ""
	for _, o := range opts {
		de := o.GetDefElem()
		if de == nil {
			continue
		}
		switch de.Defname {
		case "transaction_read_only":
			if c, ok := de.Arg.Node.(*pg.Node_AConst); ok {
				if iv, ok := c.AConst.Val.(*pg.A_Const_Ival); ok {
					ro = iv.Ival.Ival != 0
				}
			}
		case "transaction_isolation":
			iso = defString(de)
		case "transaction_deferrable":
		default:
			return false, "", pgerr.Unsupported("transaction option " + de.Defname)
		}
	}
	return ro, iso, nil
}

func (t *translator) set(vs *pg.VariableSetStmt) (*Plan, error) {
	name := strings.ToLower(vs.Name)
	op := &SetOp{Name: name, Local: vs.IsLocal}
	switch vs.Kind {
	case pg.VariableSetKind_VAR_SET_VALUE:
		v, err := setValue(vs.Args)
		if err != nil {
			return nil, err
		}
		op.Value = v
	case pg.VariableSetKind_VAR_SET_DEFAULT, pg.VariableSetKind_VAR_RESET:
		op.Reset = true
	case pg.VariableSetKind_VAR_RESET_ALL:
		op.Reset, op.All = true, true
	case pg.VariableSetKind_VAR_SET_MULTI:
		return transactionCharacteristics(vs)
	default:
		return nil, pgerr.Unsupported("this form of SET")
	}
	tag := "SET"
	if vs.Kind == pg.VariableSetKind_VAR_RESET || vs.Kind == pg.VariableSetKind_VAR_RESET_ALL {
		tag = "RESET"
	}
	return &Plan{Kind: KindSet, Tag: tag, Set: op}, nil
}

// setValue renders SET's argument list as PostgreSQL stores it.
func setValue(args []*pg.Node) (string, error) {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch x := a.Node.(type) {
		case *pg.Node_AConst:
			switch v := x.AConst.Val.(type) {
			case *pg.A_Const_Sval:
				parts = append(parts, v.Sval.Sval)
			case *pg.A_Const_Ival:
				parts = append(parts, strconv.Itoa(int(v.Ival.Ival)))
			case *pg.A_Const_Fval:
				parts = append(parts, v.Fval.Fval)
			case *pg.A_Const_Boolval:
				parts = append(parts, strconv.FormatBool(v.Boolval.Boolval))
			default:
				return "", pgerr.Unsupported("this SET value")
			}
		case *pg.Node_TypeCast:
			// SET TIME ZONE INTERVAL '…' and friends.
			if c, ok := x.TypeCast.Arg.Node.(*pg.Node_AConst); ok {
				if v, ok := c.AConst.Val.(*pg.A_Const_Sval); ok {
					parts = append(parts, v.Sval.Sval)
					continue
				}
			}
			return "", pgerr.Unsupported("this SET value")
		default:
			return "", pgerr.Unsupported("this SET value")
		}
	}
	return strings.Join(parts, ", "), nil
}

// transactionCharacteristics handles SET TRANSACTION … (the current
// transaction) and SET SESSION CHARACTERISTICS AS TRANSACTION … (the
// defaults). Isolation levels are recorded and reported; every
// transaction runs serializably.
func transactionCharacteristics(vs *pg.VariableSetStmt) (*Plan, error) {
	session := strings.EqualFold(vs.Name, "SESSION CHARACTERISTICS")
	plan := &Plan{Kind: KindSet, Tag: "SET"}
	for _, a := range vs.Args {
		de := a.GetDefElem()
		if de == nil {
			continue
		}
		name := de.Defname
		value := defString(de)
		switch name {
		case "transaction_isolation":
		case "transaction_read_only":
			if v, ok := defElemInt(de); ok {
				value = map[bool]string{true: "on", false: "off"}[v != 0]
			}
		case "transaction_deferrable":
			continue
		default:
			return nil, pgerr.Unsupported("transaction option " + name)
		}
		if session {
			name = "default_" + name
		}
		if plan.Set != nil {
			// Several modes: the session applies the first; the rest are
			// chained here.
			plan.Set.Next = append(plan.Set.Next, SetOp{Name: name, Value: value, Local: !session})
			continue
		}
		plan.Set = &SetOp{Name: name, Value: value, Local: !session}
	}
	if plan.Set == nil {
		return &Plan{Kind: KindNoop, Tag: "SET"}, nil
	}
	return plan, nil
}

// setConfigPlan is SELECT set_config(name, value, is_local) with constant
// arguments, alone in its select list and without FROM (how pg_dump and
// drivers call it): a SET whose new value is returned as one row. Anywhere
// else set_config answers 0A000 (it would change the session from inside
// a query).
func (t *translator) setConfigPlan(sel *pg.SelectStmt) (*Plan, error) {
	if len(sel.TargetList) != 1 || sel.Op != pg.SetOperation_SETOP_NONE {
		return nil, nil
	}
	rt := sel.TargetList[0].GetResTarget()
	fc := rt.Val.GetFuncCall()
	if fc == nil || funcName(fc) != "set_config" {
		return nil, nil
	}
	if len(sel.FromClause) > 0 || sel.WhereClause != nil || len(fc.Args) != 3 {
		return nil, pgerr.Unsupported("set_config outside a plain SELECT set_config(name, value, is_local)")
	}
	var texts [3]string
	for i, a := range fc.Args {
		c := a.GetAConst()
		if c == nil && a.GetTypeCast() != nil {
			c = a.GetTypeCast().Arg.GetAConst()
		}
		if c == nil || c.Isnull {
			return nil, pgerr.Unsupported("set_config with non-constant arguments")
		}
		v, err := setValue([]*pg.Node{{Node: &pg.Node_AConst{AConst: c}}})
		if err != nil {
			return nil, err
		}
		texts[i] = v
	}
	local, err := pgval.Parse(pgval.BoolOID, texts[2], nil)
	if err != nil {
		return nil, err
	}
	name := rt.Name
	if name == "" {
		name = "set_config"
	}
	op := &SetOp{Name: strings.ToLower(texts[0]), Value: texts[1], Local: local.(bool)}
	return &Plan{Kind: KindSet, Tag: "SELECT", Set: op, Columns: []Column{{Name: name, Type: pgval.TextOID, TypMod: -1}}}, nil
}
