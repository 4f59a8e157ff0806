package translate

// builtinFunctionTable gathers the tables of PostgreSQL's built-in
// formatting, mathematical, statistical and date/time functions.
func builtinFunctionTable() map[string]fnSpec {
	out := map[string]fnSpec{}
	for _, table := range []map[string]fnSpec{formatFunctionTable(), mathFunctionTable(), statsFunctionTable(), dateFunctionTable(), orderedSetFunctionTable()} {
		for name, spec := range table {
			out[name] = spec
		}
	}
	return out
}
