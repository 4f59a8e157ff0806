package pgval

// OID identifies a PostgreSQL type. Values are PostgreSQL's own.
type OID = uint32

// Type OIDs from PostgreSQL's pg_type.dat.
const (
	Unspecified OID = 0

	BoolOID         OID = 16
	ByteaOID        OID = 17
	CharOID         OID = 18
	NameOID         OID = 19
	Int8OID         OID = 20
	Int2OID         OID = 21
	Int2VectorOID   OID = 22
	Int4OID         OID = 23
	RegprocOID      OID = 24
	TextOID         OID = 25
	OIDOID          OID = 26
	XIDOID          OID = 28
	CIDOID          OID = 29
	OIDVectorOID    OID = 30
	JSONOID         OID = 114
	XMLOID          OID = 142
	PgNodeTreeOID   OID = 194
	Float4OID       OID = 700
	Float8OID       OID = 701
	UnknownOID      OID = 705
	BPCharOID       OID = 1042
	VarcharOID      OID = 1043
	DateOID         OID = 1082
	TimeOID         OID = 1083
	TimestampOID    OID = 1114
	TimestamptzOID  OID = 1184
	IntervalOID     OID = 1186
	TimetzOID       OID = 1266
	NumericOID      OID = 1700
	RegprocedureOID OID = 2202
	RegoperOID      OID = 2203
	RegclassOID     OID = 2205
	RegtypeOID      OID = 2206
	RecordOID       OID = 2249
	CstringOID      OID = 2275
	AnyOID          OID = 2276
	VoidOID         OID = 2278
	TriggerOID      OID = 2279
	UUIDOID         OID = 2950
	JSONBOID        OID = 3802
	RegnamespaceOID OID = 4089
	RegroleOID      OID = 4096

	BoolArrayOID        OID = 1000
	ByteaArrayOID       OID = 1001
	CharArrayOID        OID = 1002
	NameArrayOID        OID = 1003
	Int2ArrayOID        OID = 1005
	Int4ArrayOID        OID = 1007
	TextArrayOID        OID = 1009
	VarcharArrayOID     OID = 1015
	BPCharArrayOID      OID = 1014
	Int8ArrayOID        OID = 1016
	Float4ArrayOID      OID = 1021
	Float8ArrayOID      OID = 1022
	OIDArrayOID         OID = 1028
	TimestampArrayOID   OID = 1115
	DateArrayOID        OID = 1182
	TimestamptzArrayOID OID = 1185
	NumericArrayOID     OID = 1231
	UUIDArrayOID        OID = 2951
	JSONArrayOID        OID = 199
	JSONBArrayOID       OID = 3807
	RegtypeArrayOID     OID = 2211
)

// TypeInfo describes a type chr2sql knows by OID.
type TypeInfo struct {
	OID       OID
	Name      string // pg_type.typname, e.g. "int4", "_int4"
	SQLName   string // format_type spelling, e.g. "integer", "integer[]"
	Len       int16  // typlen: fixed size in bytes, -1 varlena, -2 cstring
	Category  byte   // typcategory: 'N' numeric, 'S' string, 'B' bool, 'D' datetime, 'A' array, 'U' user, …
	Elem      OID    // element type for arrays, 0 otherwise
	Array     OID    // array type whose element is this type, 0 if none
	Preferred bool   // typispreferred
}

var types = []TypeInfo{
	{BoolOID, "bool", "boolean", 1, 'B', 0, BoolArrayOID, true},
	{ByteaOID, "bytea", "bytea", -1, 'U', 0, ByteaArrayOID, false},
	{CharOID, "char", "\"char\"", 1, 'Z', 0, CharArrayOID, false},
	{NameOID, "name", "name", 64, 'S', 0, NameArrayOID, false},
	{Int8OID, "int8", "bigint", 8, 'N', 0, Int8ArrayOID, false},
	{Int2OID, "int2", "smallint", 2, 'N', 0, Int2ArrayOID, false},
	{Int2VectorOID, "int2vector", "int2vector", -1, 'A', Int2OID, 0, false},
	{Int4OID, "int4", "integer", 4, 'N', 0, Int4ArrayOID, false},
	{RegprocOID, "regproc", "regproc", 4, 'N', 0, 0, false},
	{TextOID, "text", "text", -1, 'S', 0, TextArrayOID, true},
	{OIDOID, "oid", "oid", 4, 'N', 0, OIDArrayOID, true},
	{XIDOID, "xid", "xid", 4, 'U', 0, 0, false},
	{CIDOID, "cid", "cid", 4, 'U', 0, 0, false},
	{OIDVectorOID, "oidvector", "oidvector", -1, 'A', OIDOID, 0, false},
	{JSONOID, "json", "json", -1, 'U', 0, JSONArrayOID, false},
	{PgNodeTreeOID, "pg_node_tree", "pg_node_tree", -1, 'Z', 0, 0, false},
	{Float4OID, "float4", "real", 4, 'N', 0, Float4ArrayOID, false},
	{Float8OID, "float8", "double precision", 8, 'N', 0, Float8ArrayOID, true},
	{UnknownOID, "unknown", "unknown", -2, 'X', 0, 0, false},
	{BPCharOID, "bpchar", "character", -1, 'S', 0, BPCharArrayOID, false},
	{VarcharOID, "varchar", "character varying", -1, 'S', 0, VarcharArrayOID, false},
	{DateOID, "date", "date", 4, 'D', 0, DateArrayOID, false},
	{TimeOID, "time", "time without time zone", 8, 'D', 0, 0, false},
	{TimestampOID, "timestamp", "timestamp without time zone", 8, 'D', 0, TimestampArrayOID, false},
	{TimestamptzOID, "timestamptz", "timestamp with time zone", 8, 'D', 0, TimestamptzArrayOID, true},
	{IntervalOID, "interval", "interval", 16, 'T', 0, 0, true},
	{TimetzOID, "timetz", "time with time zone", 12, 'D', 0, 0, false},
	{NumericOID, "numeric", "numeric", -1, 'N', 0, NumericArrayOID, false},
	{RegprocedureOID, "regprocedure", "regprocedure", 4, 'N', 0, 0, false},
	{RegoperOID, "regoper", "regoper", 4, 'N', 0, 0, false},
	{RegclassOID, "regclass", "regclass", 4, 'N', 0, 0, false},
	{RegtypeOID, "regtype", "regtype", 4, 'N', 0, RegtypeArrayOID, false},
	{RecordOID, "record", "record", -1, 'P', 0, 0, false},
	{CstringOID, "cstring", "cstring", -2, 'P', 0, 0, false},
	{AnyOID, "any", "\"any\"", 4, 'P', 0, 0, false},
	{VoidOID, "void", "void", 4, 'P', 0, 0, false},
	{TriggerOID, "trigger", "trigger", 4, 'P', 0, 0, false},
	{UUIDOID, "uuid", "uuid", 16, 'U', 0, UUIDArrayOID, false},
	{JSONBOID, "jsonb", "jsonb", -1, 'U', 0, JSONBArrayOID, false},
	{RegnamespaceOID, "regnamespace", "regnamespace", 4, 'N', 0, 0, false},
	{RegroleOID, "regrole", "regrole", 4, 'N', 0, 0, false},

	{BoolArrayOID, "_bool", "boolean[]", -1, 'A', BoolOID, 0, false},
	{ByteaArrayOID, "_bytea", "bytea[]", -1, 'A', ByteaOID, 0, false},
	{CharArrayOID, "_char", "\"char\"[]", -1, 'A', CharOID, 0, false},
	{NameArrayOID, "_name", "name[]", -1, 'A', NameOID, 0, false},
	{Int2ArrayOID, "_int2", "smallint[]", -1, 'A', Int2OID, 0, false},
	{Int4ArrayOID, "_int4", "integer[]", -1, 'A', Int4OID, 0, false},
	{TextArrayOID, "_text", "text[]", -1, 'A', TextOID, 0, false},
	{BPCharArrayOID, "_bpchar", "character[]", -1, 'A', BPCharOID, 0, false},
	{VarcharArrayOID, "_varchar", "character varying[]", -1, 'A', VarcharOID, 0, false},
	{Int8ArrayOID, "_int8", "bigint[]", -1, 'A', Int8OID, 0, false},
	{Float4ArrayOID, "_float4", "real[]", -1, 'A', Float4OID, 0, false},
	{Float8ArrayOID, "_float8", "double precision[]", -1, 'A', Float8OID, 0, false},
	{OIDArrayOID, "_oid", "oid[]", -1, 'A', OIDOID, 0, false},
	{TimestampArrayOID, "_timestamp", "timestamp without time zone[]", -1, 'A', TimestampOID, 0, false},
	{DateArrayOID, "_date", "date[]", -1, 'A', DateOID, 0, false},
	{TimestamptzArrayOID, "_timestamptz", "timestamp with time zone[]", -1, 'A', TimestamptzOID, 0, false},
	{NumericArrayOID, "_numeric", "numeric[]", -1, 'A', NumericOID, 0, false},
	{UUIDArrayOID, "_uuid", "uuid[]", -1, 'A', UUIDOID, 0, false},
	{JSONArrayOID, "_json", "json[]", -1, 'A', JSONOID, 0, false},
	{JSONBArrayOID, "_jsonb", "jsonb[]", -1, 'A', JSONBOID, 0, false},
	{RegtypeArrayOID, "_regtype", "regtype[]", -1, 'A', RegtypeOID, 0, false},
}

var byOID = func() map[OID]*TypeInfo {
	m := make(map[OID]*TypeInfo, len(types))
	for i := range types {
		m[types[i].OID] = &types[i]
	}
	return m
}()

var byName = func() map[string]*TypeInfo {
	m := make(map[string]*TypeInfo, len(types))
	for i := range types {
		m[types[i].Name] = &types[i]
	}
	return m
}()

// Lookup returns the type with the given OID.
func Lookup(oid OID) (*TypeInfo, bool) {
	t, ok := byOID[oid]
	return t, ok
}

// LookupName returns the type with the given pg_type.typname ("int4", "_text").
func LookupName(name string) (*TypeInfo, bool) {
	t, ok := byName[name]
	return t, ok
}

// Types returns every type chr2sql knows, in a fixed order. Callers must not
// modify the result.
func Types() []TypeInfo { return types }
