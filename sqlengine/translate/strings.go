package translate

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// String, regular expression and bytea functions.

func stringFunctionTable() map[string]fnSpec {
	bytea := pgval.ByteaOID
	textArr := pgval.TextArrayOID
	return map[string]fnSpec{
		"regexp_replace":        {sqlName: "chr2_regexp_replace", args: []pgval.OID{text, text, text, text}, ret: text, minArgs: 3, maxArgs: 4, special: fnPadArgs(4)},
		"regexp_match":          {sqlName: "chr2_regexp_match", args: []pgval.OID{text, text, text}, ret: textArr, minArgs: 2, maxArgs: 3, special: fnPadArgs(3)},
		"regexp_split_to_array": {special: fnRegexpSplitArray},
		"string_to_array":       {sqlName: "chr2_string_to_array", args: []pgval.OID{text, text, text}, ret: textArr, minArgs: 2, maxArgs: 3, special: fnPadArgs(3)},
		"translate":             {sqlName: "chr2_translate", args: []pgval.OID{text, text, text}, ret: text, minArgs: 3, maxArgs: 3},
		"format":                {special: fnFormat},
		"ascii":                 {sqlName: "chr2_ascii", args: []pgval.OID{text}, ret: int4, minArgs: 1, maxArgs: 1},
		"chr":                   {sqlName: "chr2_chr", args: []pgval.OID{int4}, ret: text, minArgs: 1, maxArgs: 1},
		"encode":                {sqlName: "chr2_encode", args: []pgval.OID{bytea, text}, ret: text, minArgs: 2, maxArgs: 2},
		"decode":                {sqlName: "chr2_decode", args: []pgval.OID{text, text}, ret: bytea, minArgs: 2, maxArgs: 2},
		"convert_to":            {sqlName: "chr2_convert_to", args: []pgval.OID{text, text}, ret: bytea, minArgs: 2, maxArgs: 2, special: fnConvertTo},
		"convert_from":          {sqlName: "chr2_convert_from", args: []pgval.OID{bytea, text}, ret: text, minArgs: 2, maxArgs: 2},
		"sha224":                {special: fnSHA(224)},
		"sha256":                {special: fnSHA(256)},
		"sha384":                {special: fnSHA(384)},
		"sha512":                {special: fnSHA(512)},
		"overlay":               {sqlName: "chr2_overlay", args: []pgval.OID{text, text, int4, int4}, ret: text, minArgs: 3, maxArgs: 4, special: fnPadArgs(4)},
		"similar_to_escape":     {sqlName: "chr2_similar_to_regex", args: []pgval.OID{text, text}, ret: text, minArgs: 1, maxArgs: 2, special: fnPadArgs(2)},
		"bit_length":            {special: fnBitLength},
		"length":                {special: fnLength("length")},
		"substr":                {special: fnSubstring("substr")},
		"substring":             {special: fnSubstring("substring")},
		"char_length":           {special: fnLength("char_length")},
		"character_length":      {special: fnLength("character_length")},
		"octet_length":          {special: fnLength("octet_length")},
	}
}

// fnPadArgs calls the spec's SQLite function with missing optional
// arguments as NULL, so it has a fixed arity.
func fnPadArgs(n int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		spec := functions[funcName(fc)]
		spec.special = nil
		e, err := t.plainCall(s, funcName(fc), spec, fc.Args)
		if err != nil {
			return expr{}, err
		}
		if missing := n - len(fc.Args); missing > 0 {
			e.sql = strings.TrimSuffix(e.sql, ")") + strings.Repeat(", NULL", missing) + ")"
		}
		return e, nil
	}
}

func fnRegexpSplitArray(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	args, err := t.textArgs(s, fc, 2, 3)
	if err != nil {
		return expr{}, err
	}
	flags := "NULL"
	if len(args) == 3 {
		flags = args[2]
	}
	return typed("chr2_regexp_items("+args[0]+", "+args[1]+", "+flags+", 'split_array')", pgval.TextArrayOID,
		"regexp_split_to_array"), nil
}

// textArgs translates between min and max arguments as text.
func (t *translator) textArgs(s *scope, fc *pg.FuncCall, minArgs, maxArgs int) ([]string, error) {
	if len(fc.Args) < minArgs || len(fc.Args) > maxArgs {
		return nil, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", funcName(fc), len(fc.Args))
	}
	out := make([]string, len(fc.Args))
	for i, a := range fc.Args {
		e, err := t.expr(s, a)
		if err != nil {
			return nil, err
		}
		if out[i], err = t.asText(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// regexpSetReturning is regexp_matches and regexp_split_to_table in FROM.
func (t *translator) regexpSetReturning(s *scope, fc *pg.FuncCall, name string) (srfResult, error) {
	args, err := t.textArgs(s, fc, 2, 3)
	if err != nil {
		return srfResult{}, err
	}
	flags := "NULL"
	if len(args) == 3 {
		flags = args[2]
	}
	mode, typ := "'matches'", pgval.OID(pgval.TextArrayOID)
	if name == "regexp_split_to_table" {
		mode, typ = "'split'", text
	}
	return tvfItems("chr2_regexp_items("+args[0]+", "+args[1]+", "+flags+", "+mode+")", typ, name), nil
}

func fnFormat(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	if len(fc.Args) < 1 {
		return expr{}, pgerr.New(pgerr.UndefinedFunction, "function format() does not exist")
	}
	args, err := t.textArgs(s, fc, 1, len(fc.Args))
	if err != nil {
		return expr{}, err
	}
	return typed("chr2_format("+strings.Join(args, ", ")+")", text, "format"), nil
}

func fnConvertTo(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	args, err := t.textArgs(s, fc, 2, 2)
	if err != nil {
		return expr{}, err
	}
	return typed("CAST(chr2_convert_from(CAST("+args[0]+" AS BLOB), "+args[1]+") AS BLOB)", pgval.ByteaOID, "convert_to"), nil
}

func fnSHA(bits int) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s takes one argument", funcName(fc))
		}
		e, err := t.exprAs(s, fc.Args[0], pgval.ByteaOID)
		if err != nil {
			return expr{}, err
		}
		return typed("chr2_sha("+e.sql+", "+itoa64(int64(bits))+")", pgval.ByteaOID, funcName(fc)), nil
	}
}

// fnLength is length/char_length/octet_length of text or bytea.
func fnLength(name string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) != 1 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s takes one argument", name)
		}
		e, err := t.expr(s, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		if e.typ == pgval.ByteaOID {
			return expr{sql: "length(" + e.sql + ")", typ: int4, mod: -1, name: name, agg: e.agg}, nil
		}
		sql, err := t.asText(e)
		if err != nil {
			return expr{}, err
		}
		fn := "length"
		if name == "octet_length" {
			fn = "chr2_octet_length"
		}
		if e.typ == pgval.BPCharOID {
			sql = "rtrim(" + sql + ", ' ')" // trailing blanks of char(n) do not count
		}
		return expr{sql: fn + "(" + sql + ")", typ: int4, mod: -1, name: name, agg: e.agg}, nil
	}
}

func fnBitLength(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
	e, err := fnLength("octet_length")(t, s, fc)
	if err != nil {
		return expr{}, err
	}
	e.sql, e.name = "(8 * "+e.sql+")", "bit_length"
	return e, nil
}

// fnSubstring is substr/substring over text (characters) or bytea (bytes)
// with PostgreSQL's rules for a start before 1 and a negative count (22011),
// which SQLite's substr reads differently; substring(s, pattern) with a
// text second argument is the regular-expression form.
func fnSubstring(name string) func(*translator, *scope, *pg.FuncCall) (expr, error) {
	return func(t *translator, s *scope, fc *pg.FuncCall) (expr, error) {
		if len(fc.Args) < 2 || len(fc.Args) > 3 {
			return expr{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(fc.Args))
		}
		str, err := t.expr(s, fc.Args[0])
		if err != nil {
			return expr{}, err
		}
		typ := text
		if str.typ == pgval.ByteaOID {
			typ = pgval.ByteaOID
		} else if str, err = t.coerceArg(str, text); err != nil {
			return expr{}, err
		}
		args := []string{str.sql}
		agg := str.agg
		for i, a := range fc.Args[1:] {
			e, err := t.expr(s, a)
			if err != nil {
				return expr{}, err
			}
			if i == 0 && name == "substring" && len(fc.Args) == 2 && typ == text && (e.lit != nil || sqltype.IsText(e.typ)) {
				if e, err = t.coerce(e, text); err != nil {
					return expr{}, err
				}
				return expr{sql: "chr2_substring_regex(" + str.sql + ", " + e.sql + ")", typ: text, mod: -1,
					name: name, agg: agg || e.agg}, nil
			}
			if e, err = t.coerce(e, int4); err != nil {
				return expr{}, err
			}
			args = append(args, e.sql)
			agg = agg || e.agg
		}
		if len(args) == 2 {
			args = append(args, "NULL")
		}
		return expr{sql: "chr2_substr(" + strings.Join(args, ", ") + ")", typ: typ, mod: -1, name: name, agg: agg}, nil
	}
}
