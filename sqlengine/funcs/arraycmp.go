package funcs

import (
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/pgval"
)

// Array ordering. Arrays are stored as their literal, whose text order is
// not PostgreSQL's (it would put {10} before {9} and tell {1.0} from
// {1.00}). Two collations compare literals the way array_cmp does: element
// by element (a NULL element after every value), then the element count,
// the number of dimensions and the dimension lengths. Elements compare as
// numbers (chr2_array_num, for arrays of numeric types) or as their text
// (chr2_array_text, every other element type, whose storage text orders
// like the values).

// ArrayCollation is the collation comparing arrays of element type elem.
func ArrayCollation(elem pgval.OID) string {
	switch elem {
	case pgval.Int2OID, pgval.Int4OID, pgval.Int8OID, pgval.OIDOID, pgval.Float4OID, pgval.Float8OID, pgval.NumericOID:
		return "chr2_array_num"
	}
	return "chr2_array_text"
}

func compareArrayNum(a, b string) int { return compareArrayLiterals(a, b, compareNumberText) }

func compareArrayText(a, b string) int { return compareArrayLiterals(a, b, strings.Compare) }

func compareArrayLiterals(a, b string, cmp func(x, y string) int) int {
	x, errA := pgval.Parse(pgval.TextArrayOID, a, time.UTC)
	y, errB := pgval.Parse(pgval.TextArrayOID, b, time.UTC)
	if errA != nil || errB != nil {
		return strings.Compare(a, b) // not an array literal: keep a total order
	}
	xs, ys := x.([]any), y.([]any)
	fx, fy := pgval.FlattenArray(xs), pgval.FlattenArray(ys)
	for i := 0; i < len(fx) && i < len(fy); i++ {
		switch {
		case fx[i] == nil && fy[i] == nil:
			continue
		case fx[i] == nil:
			return 1
		case fy[i] == nil:
			return -1
		}
		if c := cmp(fx[i].(string), fy[i].(string)); c != 0 {
			return c
		}
	}
	if c := len(fx) - len(fy); c != 0 {
		return sign(c)
	}
	dx, dy := pgval.ArrayDims(xs), pgval.ArrayDims(ys)
	if c := len(dx) - len(dy); c != 0 {
		return sign(c)
	}
	return slices.Compare(dx, dy)
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// compareNumberText orders the text of numbers as PostgreSQL orders
// float and numeric values: -Infinity, finite values, Infinity, NaN.
func compareNumberText(a, b string) int {
	ra, rb := numberRank(a), numberRank(b)
	if ra != rb || ra != 1 {
		return sign(ra - rb)
	}
	var x, y big.Rat
	if _, ok := x.SetString(a); !ok {
		return strings.Compare(a, b)
	}
	if _, ok := y.SetString(b); !ok {
		return strings.Compare(a, b)
	}
	return x.Cmp(&y)
}

func numberRank(s string) int {
	switch strings.ToLower(s) {
	case "-infinity":
		return 0
	case "infinity":
		return 2
	case "nan":
		return 3
	}
	return 1
}
