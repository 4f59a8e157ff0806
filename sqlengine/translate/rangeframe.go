package translate

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/sqlengine/sqltype"
)

// RANGE frames with an offset (RANGE BETWEEN interval '1 day' PRECEDING
// AND CURRENT ROW) compare the ORDER BY key with key ± offset. SQLite does
// that only on numbers, and dates and timestamps are stored as text: the
// key becomes its exact microseconds (chr2_time_key) and the offset a
// constant interval's microseconds (months, which have no fixed length,
// are refused). Integer and float keys work as they are; numeric
// keys (decimal text) and other types answer 0A000 rather than compare
// text.

const frameOffsets = frameStartOffsetPre | frameStartOffsetFol | frameEndOffsetPre | frameEndOffsetFol

// rangeOffsetKind tells how a window's RANGE offsets must be translated:
// "" when the frame has none.
func rangeOffsetKind(wd *pg.WindowDef, orderKeys []expr) (string, error) {
	opts := wd.FrameOptions
	if opts&frameNonDefault == 0 || opts&(frameRows|frameGroups) != 0 || opts&frameOffsets == 0 {
		return "", nil
	}
	if len(orderKeys) != 1 {
		return "", pgerr.New(pgerr.WindowingError,
			"RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
	}
	switch typ := orderKeys[0].typ; {
	case sqltype.IsInteger(typ) || typ == pgval.Float4OID || typ == pgval.Float8OID:
		return "number", nil
	case typ == pgval.DateOID || typ == pgval.TimestampOID || typ == pgval.TimestamptzOID:
		return "time", nil
	default:
		return "", pgerr.Unsupported("RANGE with offset PRECEDING/FOLLOWING over " + typeSQLName(typ) + " values")
	}
}

// timeOffset translates an interval offset of a RANGE frame over a time
// key into microseconds. SQLite wants the offset as a number it can read
// when it prepares the frame, so it must be a constant interval here; days
// count 24 hours (as PostgreSQL adds them to a timestamp in UTC), and
// months, which have no fixed length, are refused.
func (t *translator) timeOffset(s *scope, offset *pg.Node) (string, error) {
	e, err := t.exprAs(s, offset, pgval.IntervalOID)
	if err != nil {
		return "", err
	}
	text, ok := sqlStringLiteral(e.sql)
	if !ok {
		return "", pgerr.Unsupported("RANGE offsets over dates and timestamps other than constant intervals")
	}
	iv, err := pgval.ParseInterval(text)
	if err != nil {
		return "", err
	}
	switch {
	case iv.Months != 0:
		return "", pgerr.Unsupported("RANGE offsets with months over dates and timestamps")
	case iv.Days < 0 || iv.Micros < 0:
		return "", pgerr.New(pgerr.InvalidPrecedingOrFollowingSize, "invalid preceding or following size in window function")
	}
	return strconv.FormatInt(int64(iv.Days)*86_400_000_000+iv.Micros, 10), nil
}

// sqlStringLiteral returns the text of a single-quoted SQLite literal.
func sqlStringLiteral(sql string) (string, bool) {
	if len(sql) < 2 || sql[0] != '\'' || sql[len(sql)-1] != '\'' {
		return "", false
	}
	body := sql[1 : len(sql)-1]
	if strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
		return "", false // not one literal
	}
	return strings.ReplaceAll(body, "''", "'"), true
}
