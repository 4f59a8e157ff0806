package funcs

import (
	"fmt"

	"modernc.org/sqlite"
)

// builtinFunctions are the pure functions behind PostgreSQL's formatting,
// mathematical and date/time built-ins.
func builtinFunctions() map[string]fnDef {
	out := map[string]fnDef{
		"chr2_to_char_time":      {4, toCharTime},
		"chr2_to_char_num":       {3, toCharNum},
		"chr2_to_date":           {2, toDate},
		"chr2_to_timestamp_text": {3, toTimestampText},
	}
	for _, table := range []map[string]fnDef{floatMathFunctions(), numericMathFunctions(), dateFunctions(), intervalMathFunctions()} {
		for name, f := range table {
			out[name] = f
		}
	}
	return out
}

// builtinAggregates are the statistical aggregates.
func builtinAggregates() map[string]struct {
	n    int32
	make func() sqlite.AggregateFunction
} {
	out := map[string]struct {
		n    int32
		make func() sqlite.AggregateFunction
	}{}
	for stem, mode := range statModes {
		out["chr2_"+stem+"_num"] = struct {
			n    int32
			make func() sqlite.AggregateFunction
		}{1, func() sqlite.AggregateFunction { return &numericStat{mode: mode} }}
		out["chr2_"+stem+"_float"] = struct {
			n    int32
			make func() sqlite.AggregateFunction
		}{1, func() sqlite.AggregateFunction { return &floatStat{mode: mode} }}
	}
	for name, a := range orderedSetAggregates() { // orderedset.go
		out[name] = a
	}
	return out
}

func registerBuiltinAggregates(d *sqlite.Driver) error {
	for name, a := range builtinAggregates() {
		mk := a.make
		if err := d.RegisterFunction(name, &sqlite.FunctionImpl{NArgs: a.n, Deterministic: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return mk(), nil }}); err != nil {
			return fmt.Errorf("funcs: register %s: %w", name, err)
		}
	}
	return nil
}
