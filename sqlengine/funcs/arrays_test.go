package funcs

import (
	"database/sql/driver"
	"testing"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// TestArraySetLowerBound: PostgreSQL lets an element assignment grow an
// array below subscript 1 (its lower bound becomes 0 or less), which the
// value model cannot hold; that must be 0A000, never a re-based array.
func TestArraySetLowerBound(t *testing.T) {
	int4 := int64(pgval.Int4OID)
	cases := []struct {
		args []driver.Value
		want any
		code pgerr.Code
	}{
		{[]driver.Value{"{1,2}", int4, int64(9), int64(4)}, "{1,2,NULL,9}", ""},
		{[]driver.Value{"{1,2}", int4, int64(9), int64(0)}, nil, pgerr.FeatureNotSupported},
		{[]driver.Value{nil, int4, int64(9), int64(2)}, nil, pgerr.FeatureNotSupported},
		{[]driver.Value{"{}", int4, int64(9), int64(1), int64(1)}, "{{9}}", ""},
		{[]driver.Value{"{{1,2}}", int4, int64(9), int64(1), int64(3)}, nil, pgerr.ArraySubscriptError},
	}
	for _, c := range cases {
		got, err := arraySet(nil, c.args)
		code := pgerr.Code("")
		if err != nil {
			pe, _ := DecodeError(err.Error())
			code = pe.Code
		}
		if code != c.code || c.code == "" && got != c.want {
			t.Errorf("arraySet(%v) = %v, %v; want %v, %s", c.args, got, err, c.want, c.code)
		}
	}
}

// TestArrayOrder: the collations order literals as array_cmp orders arrays.
func TestArrayOrder(t *testing.T) {
	less := [][2]string{
		{"{9}", "{10}"}, {"{1,2}", "{1,2,0}"}, {"{5}", "{NULL}"}, {"{-Infinity}", "{-1e300}"},
		{"{Infinity}", "{NaN}"}, {"{1,2}", "{{1,2}}"}, {"{{1,2}}", "{{1},{2}}"}, {"{}", "{NULL}"},
	}
	for _, p := range less {
		if compareArrayNum(p[0], p[1]) >= 0 || compareArrayNum(p[1], p[0]) <= 0 {
			t.Errorf("%s should sort before %s", p[0], p[1])
		}
	}
	if compareArrayNum("{1.0,2}", "{1.00,2.0}") != 0 || compareArrayText(`{"a b"}`, "{a}") <= 0 {
		t.Error("numeric elements compare by value, text elements by their text")
	}
}
