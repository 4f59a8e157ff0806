package funcs

import (
	"database/sql/driver"
	"fmt"
	"math"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Numeric functions: numeric values are decimal text with a display scale
// (storage form); these functions compute on them exactly, with
// PostgreSQL's result scales.

func numericFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_num":        {1, numUnary(func(d decimal) (decimal, error) { return d, nil })},
		"chr2_num_neg":    {1, numUnary(func(d decimal) (decimal, error) { return d.neg(), nil })},
		"chr2_num_abs":    {1, numUnary(numAbs)},
		"chr2_num_ceil":   {1, numUnary(func(d decimal) (decimal, error) { return numCeilFloor(d, true), nil })},
		"chr2_num_floor":  {1, numUnary(func(d decimal) (decimal, error) { return numCeilFloor(d, false), nil })},
		"chr2_num_add":    {2, numBinary(func(a, b decimal) (decimal, error) { return a.add(b), nil })},
		"chr2_num_sub":    {2, numBinary(func(a, b decimal) (decimal, error) { return a.add(b.neg()), nil })},
		"chr2_num_mul":    {2, numBinary(func(a, b decimal) (decimal, error) { return a.mul(b), nil })},
		"chr2_num_div":    {2, numBinary(func(a, b decimal) (decimal, error) { return a.div(b) })},
		"chr2_num_mod":    {2, numBinary(func(a, b decimal) (decimal, error) { return a.mod(b) })},
		"chr2_num_typmod": {2, numTypmod},
		"chr2_num_round":  {2, numRound(false)},
		"chr2_num_trunc":  {2, numRound(true)},
		"chr2_num_sign":   {1, numSign},
		"chr2_num_cmp":    {2, numCmp},
		"chr2_int_check":  {2, intCheck},
		"chr2_shift_left": {3, shiftLeft},
	}
}

// NumericOp folds a numeric operation on two constants at translation time
// (fn is the chr2_num_* name).
func NumericOp(fn, a, b string) (string, error) {
	x, err := parseDecimalText(a)
	if err != nil {
		return "", err
	}
	y, err := parseDecimalText(b)
	if err != nil {
		return "", err
	}
	var r decimal
	switch fn {
	case "chr2_num_add":
		r = x.add(y)
	case "chr2_num_sub":
		r = x.add(y.neg())
	case "chr2_num_mul":
		r = x.mul(y)
	case "chr2_num_div":
		r, err = x.div(y)
	case "chr2_num_mod":
		r, err = x.mod(y)
	default:
		return "", fmt.Errorf("funcs: unknown numeric operation %s", fn)
	}
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// shiftLeft is << within the width of the integer type, as in PostgreSQL.
func shiftLeft(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	x, n, bits := asInt(a[0]), uint(asInt(a[1])&63), asInt(a[2])
	v := x << n
	switch bits {
	case 16:
		return int64(int16(v)), nil
	case 32:
		return int64(int32(v)), nil
	}
	return v, nil
}

func numArg(v driver.Value) (decimal, error) {
	d, err := parseDecimal(v)
	if err != nil {
		return d, FromPG(err)
	}
	return d, nil
}

func numUnary(f func(decimal) (decimal, error)) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		d, err := numArg(a[0])
		if err != nil {
			return nil, err
		}
		r, err := f(d)
		if err != nil {
			return nil, err
		}
		return r.String(), nil
	}
}

func numBinary(f func(a, b decimal) (decimal, error)) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		x, err := numArg(a[0])
		if err != nil {
			return nil, err
		}
		y, err := numArg(a[1])
		if err != nil {
			return nil, err
		}
		r, err := f(x, y)
		if err != nil {
			return nil, err
		}
		return r.String(), nil
	}
}

func numAbs(d decimal) (decimal, error) {
	if d.sign() < 0 {
		return d.neg(), nil
	}
	return d, nil
}

func numCeilFloor(d decimal, ceil bool) decimal {
	if d.special != "" {
		return d
	}
	t := d.truncate(0)
	if t.cmp(d) != 0 {
		one := decimal{}
		one.u.SetInt64(1)
		if ceil && d.sign() > 0 {
			t = t.add(one)
		}
		if !ceil && d.sign() < 0 {
			t = t.add(one.neg())
		}
	}
	return t
}

func numTypmod(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	d, err := numArg(a[0])
	if err != nil {
		return nil, err
	}
	r, err := d.checkTypmod(int32(asInt(a[1])))
	if err != nil {
		return nil, err
	}
	return r.String(), nil
}

// NumericTypmod applies numeric(p, s) to a decimal text at translation time.
func NumericTypmod(v string, typmod int32) (string, error) {
	d, err := parseDecimalText(v)
	if err != nil {
		return "", err
	}
	r, err := d.checkTypmod(typmod)
	if err != nil {
		if pe, ok := DecodeError(err.Error()); ok {
			return "", pe // with its DETAIL
		}
		return "", err
	}
	return r.String(), nil
}

// numRound is round/trunc(numeric, n); a negative n rounds left of the
// point and the result keeps no fraction digits.
func numRound(truncate bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		d, err := numArg(a[0])
		if err != nil {
			return nil, err
		}
		n := int32(asInt(a[1]))
		var r decimal
		if truncate {
			r = d.truncate(n)
		} else {
			r = d.rescale(n)
		}
		if n < 0 {
			r = r.rescale(0)
		}
		return r.String(), nil
	}
}

func numSign(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	d, err := numArg(a[0])
	if err != nil {
		return nil, err
	}
	if d.special == "NaN" {
		return "NaN", nil
	}
	return fmt.Sprint(d.sign()), nil
}

func numCmp(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	x, err := numArg(a[0])
	if err != nil {
		return nil, err
	}
	y, err := numArg(a[1])
	if err != nil {
		return nil, err
	}
	return int64(x.cmp(y)), nil
}

// intCheck verifies an integer expression's result fits its type: SQLite
// turns an int64 overflow into a float, PostgreSQL raises 22003.
func intCheck(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	bits := asInt(a[1])
	name := map[int64]string{16: "smallint", 32: "integer", 64: "bigint"}[bits]
	switch x := a[0].(type) {
	case nil:
		return nil, nil
	case int64:
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		switch bits {
		case 16:
			lo, hi = math.MinInt16, math.MaxInt16
		case 32:
			lo, hi = math.MinInt32, math.MaxInt32
		}
		if x < lo || x > hi {
			return nil, Error(pgerr.NumericValueOutOfRange, "%s out of range", name)
		}
		return x, nil
	case float64:
		return nil, Error(pgerr.NumericValueOutOfRange, "%s out of range", name)
	}
	return a[0], nil
}

// numericSum adds numeric values exactly; the result keeps the largest
// display scale of its inputs, as PostgreSQL's sum(numeric) does.
type numericSum struct {
	sum decimal
	n   int64
	avg bool
}

func (s *numericSum) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if args[0] == nil {
		return nil
	}
	d, err := numArg(args[0])
	if err != nil {
		return err
	}
	s.sum = s.sum.add(d)
	s.n++
	return nil
}

func (s *numericSum) WindowInverse(_ *sqlite.FunctionContext, args []driver.Value) error {
	if args[0] == nil {
		return nil
	}
	d, err := numArg(args[0])
	if err != nil {
		return err
	}
	s.sum = s.sum.add(d.neg())
	s.n--
	return nil
}

func (s *numericSum) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if s.n == 0 {
		return nil, nil
	}
	if !s.avg {
		return s.sum.String(), nil
	}
	var count decimal
	count.u.SetInt64(s.n)
	r, err := s.sum.div(count)
	if err != nil {
		return nil, err
	}
	return r.String(), nil
}

func (s *numericSum) Final(*sqlite.FunctionContext) {}
