package translate

import (
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/catalog"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// Domains: CREATE DOMAIN name AS base [NOT NULL] [CHECK (…)]. A value of a
// domain is a value of its base type (PostgreSQL describes it by the base
// type's OID too); a cast to the domain checks the constraint. Columns of
// a domain type are not supported yet, so no stored value can escape the
// check.

// domainType returns the domain with the given OID, nil for any other type.
func (t *translator) domainType(oid pgval.OID) *catalog.Type {
	return t.userType(oid, catalog.TypeDomain)
}

func (t *translator) createDomain(cs *pg.CreateDomainStmt) (*Plan, error) {
	nsp, name, err := t.newTypeName(cs.Domainname)
	if err != nil {
		return nil, err
	}
	base, mod, err := t.resolveTypeName(cs.TypeName)
	if err != nil {
		return nil, err
	}
	if uint32(base) >= catalog.FirstUserOID {
		return nil, pgerr.Unsupported("domains over user-defined types")
	}
	ty := &catalog.Type{OID: t.allocOID(), Namespace: nsp, Name: name, Kind: catalog.TypeDomain, Base: base, TypMod: mod}
	ty.ArrayOID = t.allocOID()
	for _, n := range cs.Constraints {
		c := n.GetConstraint()
		switch {
		case c.Contype == pg.ConstrType_CONSTR_NOTNULL:
			ty.NotNull = true
		case c.Contype == pg.ConstrType_CONSTR_CHECK && ty.CheckExpr == "":
			ty.CheckExpr, ty.ConName, ty.ConOID = deparseExpr(c.RawExpr), c.Conname, t.allocOID()
			if ty.ConName == "" {
				ty.ConName = name + "_check"
			}
			if _, err := t.domainCheck(ty, typed("NULL", base, "")); err != nil {
				return nil, err
			}
		default:
			return nil, pgerr.Unsupported("this domain constraint")
		}
	}
	d := &ddl{}
	d.add("INSERT INTO _chr2_types (oid, nsp, name, kind, array_oid, base_oid, typmod, not_null, con_oid, con_name, "+
		"check_expr) VALUES (%d, %d, %s, 'd', %d, %d, %d, %d, %d, %s, %s)", ty.OID, nsp.OID, sqltype.QuoteString(name),
		ty.ArrayOID, base, mod, b2i(ty.NotNull), ty.ConOID, sqltype.QuoteString(ty.ConName), sqltype.QuoteString(ty.CheckExpr))
	return t.finishDDL(d, "CREATE DOMAIN"), nil
}

// domainCheck translates the domain's CHECK with VALUE standing for v.
func (t *translator) domainCheck(ty *catalog.Type, v expr) (string, error) {
	n, err := parseExprText(ty.CheckExpr)
	if err != nil {
		return "", err
	}
	item := &rangeItem{cols: []scopeCol{{name: "value", sqlExpr: v.sql, typ: ty.Base, mod: ty.TypMod}}}
	return t.boolExpr(&scope{items: []*rangeItem{item}}, n, "CHECK")
}

// castToDomain is an explicit cast to a domain: to its base type, then
// through its NOT NULL and CHECK.
func (t *translator) castToDomain(e expr, ty *catalog.Type) (expr, error) {
	out, err := t.castExpr(e, ty.Base, ty.TypMod)
	if err != nil {
		return expr{}, err
	}
	out.name = ty.Name
	if ty.NotNull {
		if out.null {
			return expr{}, pgerr.New(pgerr.NotNullViolation, "domain %s does not allow null values", ty.Name)
		}
		out.sql = "coalesce(" + out.sql + ", chr2_raise('" + string(pgerr.NotNullViolation) + "', " +
			sqltype.QuoteString("domain "+ty.Name+" does not allow null values") + "))"
	}
	if ty.CheckExpr == "" {
		return out, nil
	}
	check, err := t.domainCheck(ty, out)
	if err != nil {
		return expr{}, err
	}
	msg := sqltype.QuoteString("value for domain " + ty.Name + ` violates check constraint "` + ty.ConName + `"`)
	out.sql = "(CASE WHEN (" + check + ") IS NOT FALSE THEN " + out.sql + " ELSE chr2_raise('" +
		string(pgerr.CheckViolation) + "', " + msg + ") END)"
	out.null = false
	return out, nil
}
