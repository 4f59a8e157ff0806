package funcs

import (
	"math/big"
	"strings"
	"testing"
)

// Expected values are PostgreSQL 15's (psql against a real server).
func TestNumericOpMatchesPostgreSQL(t *testing.T) {
	cases := []struct{ fn, a, b, want string }{
		{"chr2_num_add", "0.1", "0.2", "0.3"},
		{"chr2_num_add", "1.50", "2", "3.50"},
		{"chr2_num_sub", "1", "1.000", "0.000"},
		{"chr2_num_mul", "1.5", "2.25", "3.375"},
		{"chr2_num_mul", "-0.001", "1000", "-1.000"},
		{"chr2_num_div", "1", "3", "0.33333333333333333333"},
		{"chr2_num_div", "10", "4", "2.5000000000000000"},
		{"chr2_num_div", "2", "3.0", "0.66666666666666666667"},
		{"chr2_num_div", "123456789012345678901234567890", "3", "41152263004115226300411522630"},
		{"chr2_num_mod", "10.5", "3", "1.5"},
		{"chr2_num_mod", "-7", "3", "-1"},
	}
	for _, c := range cases {
		got, err := NumericOp(c.fn, c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("%s(%s, %s) = %q, %v; want %q", c.fn, c.a, c.b, got, err, c.want)
		}
	}
	if _, err := NumericOp("chr2_num_div", "1", "0"); err == nil {
		t.Error("division by zero did not fail")
	}
}

func TestNumericTypmodRoundsHalfAwayFromZero(t *testing.T) {
	// numeric(4,1): typmod = (4 << 16 | 1) + 4.
	typmod := int32(4<<16|1) + 4
	for in, want := range map[string]string{"1.25": "1.3", "-1.25": "-1.3", "1.35": "1.4", "999.94": "999.9", "0": "0.0"} {
		if got, err := NumericTypmod(in, typmod); err != nil || got != want {
			t.Errorf("NumericTypmod(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NumericTypmod("999.95", typmod); err == nil {
		t.Error("999.95 fits numeric(4,1)?")
	}
}

// FuzzDecimalArithmetic checks add, sub, mul and cmp against math/big on
// arbitrary decimal texts; the result's scale must be PostgreSQL's
// (max of the scales for add/sub, their sum for mul).
func FuzzDecimalArithmetic(f *testing.F) {
	for _, s := range [][2]string{{"0", "0"}, {"1.5", "-2.25"}, {"123456789.987654321", "0.000000001"},
		{"-0.0", "10"}, {"99999999999999999999", "1"}, {"3.14159", "-3.14159"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, errA := parseDecimalText(a)
		y, errB := parseDecimalText(b)
		if errA != nil || errB != nil || x.special != "" || y.special != "" || len(a) > 60 || len(b) > 60 {
			return
		}
		ra, rb := ratOf(t, x.String()), ratOf(t, y.String())
		check := func(op string, got decimal, want *big.Rat, scale int) {
			t.Helper()
			if ratOf(t, got.String()).Cmp(want) != 0 {
				t.Fatalf("%s %s %s = %s, want %s", a, op, b, got, want.FloatString(scale))
			}
			if s := scaleOf(got.String()); s != scale {
				t.Fatalf("%s %s %s = %s: scale %d, want %d", a, op, b, got, s, scale)
			}
		}
		sa, sb := scaleOf(x.String()), scaleOf(y.String())
		check("+", x.add(y), new(big.Rat).Add(ra, rb), max(sa, sb))
		check("-", x.add(y.neg()), new(big.Rat).Sub(ra, rb), max(sa, sb))
		check("*", x.mul(y), new(big.Rat).Mul(ra, rb), sa+sb)
		if got, want := x.cmp(y), ra.Cmp(rb); got != want {
			t.Fatalf("cmp(%s, %s) = %d, want %d", a, b, got, want)
		}
	})
}

func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a decimal: %q", s)
	}
	return r
}

func scaleOf(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}
