package funcs

import (
	"strings"

	"github.com/chr2sql/chr2sql/pgval"
)

// Intervals are stored as their text form, which sorts nothing like
// PostgreSQL: '1 mon' < '10:00:00' as text. PostgreSQL compares intervals
// by one span in which a month is 30 days and a day 24 hours (interval_cmp,
// intervalCmp here), so '1 day' = '24 hours'. The chr2_interval collation
// compares that span; interval columns, comparisons, ORDER BY, GROUP BY,
// DISTINCT and min/max use it.

// compareIntervalText is the chr2_interval collation. Text that is no
// interval (never written by chr2sql) sorts after every interval, by text.
func compareIntervalText(a, b string) int {
	x, errA := pgval.ParseInterval(a)
	y, errB := pgval.ParseInterval(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return 1
	case errB != nil:
		return -1
	}
	return intervalCmp(x, y)
}
