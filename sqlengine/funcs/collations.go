package funcs

import (
	"strings"

	"github.com/chr2sql/chr2sql/pgval"
)

// Collations for types stored as text whose text order is not PostgreSQL's
// order. Columns of these types are declared with them, and the translator
// adds them to comparisons, ORDER BY, GROUP BY, DISTINCT and min/max of
// expressions (translate.collatedSortKey).
//
//   - chr2_interval: PostgreSQL's interval_cmp, by one span in which a month
//     is 30 days and a day 24 hours (intervalCmp), so '1 day' = '24 hours'
//     and '1 mon' > '10:00:00' (as text it sorts first).
//   - chr2_jsonb: jsonb's order (null < string < number < boolean < array <
//     object, then by value, numbers numerically), so '9' < '10'.
//   - chr2_array_num, chr2_array_text: array_cmp's element-by-element order
//     for array literals (arraycmp.go).
//
// Text that does not parse (never written by chr2sql) sorts after every
// valid value, by text.

func compareIntervalText(a, b string) int {
	x, errA := pgval.ParseInterval(a)
	y, errB := pgval.ParseInterval(b)
	if errA != nil || errB != nil {
		return compareUnparsed(a, b, errA == nil, errB == nil)
	}
	return intervalCmp(x, y)
}

func compareJSONBText(a, b string) int {
	x, errA := decodeJSON(a)
	y, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		return compareUnparsed(a, b, errA == nil, errB == nil)
	}
	return cmpJSON(x, y)
}

func compareUnparsed(a, b string, okA, okB bool) int {
	switch {
	case okA:
		return -1
	case okB:
		return 1
	}
	return strings.Compare(a, b)
}
