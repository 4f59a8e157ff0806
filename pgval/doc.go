// Package pgval is the value model shared by pgwire and sqlengine: the
// PostgreSQL type OIDs chr2sql reports, the Go representation of a value of
// each type, and PostgreSQL's text and binary formats for them.
//
// # Value model
//
// A value crossing the pgwire ↔ sqlengine boundary is one of these Go types,
// chosen by the column's or parameter's type OID:
//
//	nil                       SQL NULL, any type
//	int64                     int2, int4, int8, oid, regclass, regproc, xid, cid
//	float64                   float4, float8
//	bool                      bool
//	string                    text, varchar, bpchar, name, char, json, jsonb,
//	                          uuid (canonical lower-case form), numeric (decimal
//	                          text, "NaN", "Infinity", "-Infinity"), interval
//	                          and time (PostgreSQL text form), unknown
//	[]byte                    bytea
//	time.Time                 timestamptz (an instant), timestamp (wall clock,
//	                          carried in UTC), date (midnight UTC);
//	                          InfinityTime / NegInfinityTime for ±infinity
//	[]any                     arrays of the element types above (lower bound 1;
//	                          nil elements are NULL); a multidimensional array
//	                          nests one []any per dimension, all sub-arrays of
//	                          the same shape
//
// Format/AppendText and EncodeBinary/AppendBinary also accept, for
// convenience of the SQL layer, every Go integer and float kind, Interval and
// time.Duration for interval, typed slices for arrays, integers for bool
// (SQLite stores booleans as 0/1), and a string for a typed column when it
// parses as that type. Anything else is ErrBadValue (an engine bug, XX000).
//
// Contract:
//  1. Format(oid, v, loc) produces exactly PostgreSQL 16's text output for v
//     with DateStyle ISO, IntervalStyle postgres, bytea_output hex,
//     extra_float_digits 1 and TimeZone loc.
//  2. Parse(oid, text, loc) accepts what PostgreSQL's input functions accept
//     for the common forms and returns a *pgerr.Error with the SQLSTATE
//     PostgreSQL would use (22P02, 22007, 22008, 22003, …) otherwise. Parse
//     never reads the clock: 'now', 'today', 'tomorrow' and 'yesterday' fail
//     with 0A000 wrapping ErrTimeDependent, for the SQL layer to resolve from
//     the deterministic context (G4).
//  3. Parse output is canonical: Format(oid, Parse(oid, s)) is what
//     PostgreSQL prints for s::type (numeric keeps its display scale, jsonb
//     is normalized, uuid is lower-case, interval is re-rendered).
//  4. DecodeBinary(oid, b) accepts PostgreSQL's binary send format, checks
//     lengths, ranges and UTF-8 like the receive functions (with SQLSTATEs
//     22P03, 22008, 22021) and never aliases b. What it allocates is bounded by len(b)
//     (array element counts are checked against the bytes present) or by
//     PostgreSQL's own limits (a numeric prints at most 131072 integer and
//     16383 fraction digits).
//  5. No function panics on any input (all are fuzzed).
//  6. Time zone data is embedded (time/tzdata) and "Local" is refused, so
//     results never depend on the host's configuration.
//
// # Known departures from PostgreSQL
//
//   - Arrays have lower bound 1 in every dimension: "[0:1]={1,2}" (and the
//     binary form with another lower bound) is 0A000.
//   - 'now', 'today', 'tomorrow', 'yesterday' are left to the SQL layer (G4).
//   - Time zone names are matched case-sensitively (IANA spelling);
//     PostgreSQL folds case. Abbreviations cover the common set only.
//   - Date input knows ISO, MDY with slashes and YYYYMMDD; month names and
//     other DateStyles are not accepted.
//
// testdata/parse_format.txt holds the expected outputs; TestAgainstPostgres
// (opt-in, CHR2_PG_DSN) replays it against a real server.
//
// # Binary formats
//
// All integers are big-endian. Dates are int32 days and timestamps int64
// microseconds since 2000-01-01 00:00 UTC (MaxInt/MinInt are ±infinity);
// time is int64 microseconds since midnight; interval is int64 µs, int32
// days, int32 months; uuid is 16 raw bytes; numeric is int16 ndigits, int16
// weight, uint16 sign (0x0000 +, 0x4000 −, 0xC000 NaN, 0xD000 +Inf, 0xF000
// −Inf), uint16 dscale, then base-10000 int16 digits; jsonb is a version
// byte 1 followed by the text; text types are their UTF-8 bytes; arrays are
// int32 ndim, int32 has-null, uint32 element OID, (int32 length, int32 lower
// bound) per dimension, then per element an int32 length (-1 NULL) and its
// bytes.
package pgval
