package funcs

import (
	"database/sql/driver"
	"math"
	"math/big"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Double precision mathematical functions (float.c). PostgreSQL calls the
// C library; where glibc's result is not the correctly rounded one
// (cbrt), its algorithm is ported so that the printed digits agree.

// radiansPerDegree is float.c's RADIANS_PER_DEGREE.
const radiansPerDegree = 0.0174532925199432957692

func floatMathFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_cbrt":    {1, floatFn(cbrt)},
		"chr2_degrees": {1, floatFn(func(x float64) float64 { return x / radiansPerDegree })},
		"chr2_radians": {1, floatFn(func(x float64) float64 { return x * radiansPerDegree })},
		"chr2_sin":     {1, floatChecked(math.Sin, math.Inf(1))},
		"chr2_cos":     {1, floatChecked(math.Cos, math.Inf(1))},
		"chr2_tan":     {1, floatChecked(math.Tan, math.Inf(1))},
		"chr2_cot": {1, floatChecked(func(x float64) float64 {
			r := 1 / math.Tan(x)
			if r == 0 {
				return 0 // PostgreSQL normalises -0
			}
			return r
		}, math.Inf(1))},
		"chr2_asin":  {1, floatChecked(math.Asin, 1)},
		"chr2_acos":  {1, floatChecked(math.Acos, 1)},
		"chr2_atan":  {1, floatFn(math.Atan)},
		"chr2_atan2": {2, atan2Fn},
		"chr2_exp":   {1, expFloat},
		"chr2_ln":    {1, logFloat(false)},
		"chr2_log10": {1, logFloat(true)},
		"chr2_width_bucket_float": {4, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return widthBucket(a, func(v driver.Value) (float64, error) { return asFloat(v), nil })
		}},
	}
}

// floatChecked applies f, refusing arguments whose magnitude exceeds
// limit (asin/acos outside [-1, 1], trigonometry of infinity).
func floatChecked(f func(float64) float64, limit float64) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		x := asFloat(a[0])
		if math.Abs(x) > limit || math.IsInf(x, 0) {
			return nil, Error(pgerr.NumericValueOutOfRange, "input is out of range")
		}
		return f(x), nil
	}
}

func atan2Fn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	return math.Atan2(asFloat(a[0]), asFloat(a[1])), nil
}

// cbrt is glibc's __cbrt (sysdeps/ieee754/dbl-64/s_cbrt.c): a polynomial
// first guess refined once, which PostgreSQL's cbrt() prints.
func cbrt(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x + x
	}
	const cbrt2, sqrCbrt2 = 1.2599210498948731648, 1.5874010519681994748
	factor := [5]float64{1.0 / sqrCbrt2, 1.0 / cbrt2, 1.0, cbrt2, sqrCbrt2}
	xm, xe := math.Frexp(math.Abs(x))
	u := 0.354895765043919860 + (1.50819193781584896+(-2.11499494167371287+(2.44693122563534430+
		(-1.83469277483613086+(0.784932344976639262-0.145263899385486377*xm)*xm)*xm)*xm)*xm)*xm
	t2 := u * u * u
	ym := u * (t2 + 2.0*xm) / (2.0*t2 + xm) * factor[2+xe%3]
	if x < 0 {
		ym = -ym
	}
	return math.Ldexp(ym, xe/3)
}

func expFloat(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	x := asFloat(a[0])
	r := math.Exp(x)
	switch {
	case math.IsInf(r, 1) && !math.IsInf(x, 1):
		return nil, Error(pgerr.NumericValueOutOfRange, "value out of range: overflow")
	case r == 0 && !math.IsInf(x, -1):
		return nil, Error(pgerr.NumericValueOutOfRange, "value out of range: underflow")
	}
	return r, nil
}

// logFloat is ln or log10 of a double; log10 goes through a wider
// calculation so that powers of ten give exact results, as glibc's does.
func logFloat(base10 bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		x := asFloat(a[0])
		switch {
		case x == 0:
			return nil, Error(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of zero")
		case x < 0:
			return nil, Error(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of a negative number")
		case !base10 || math.IsInf(x, 0):
			if base10 {
				return math.Log10(x), nil
			}
			return math.Log(x), nil
		}
		const prec = 160
		l := bigLn(new(big.Float).SetPrec(prec).SetFloat64(x), prec)
		l.Quo(l, bigLn(new(big.Float).SetPrec(prec).SetInt64(10), prec))
		r, _ := l.Float64()
		return r, nil
	}
}

// widthBucket is width_bucket(operand, low, high, count): the bucket of
// operand among count equal-width buckets over [low, high) (or (high,
// low] when low > high); 0 and count+1 lie outside.
func widthBucket(a []driver.Value, num func(driver.Value) (float64, error)) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil || a[3] == nil {
		return nil, nil
	}
	count := asInt(a[3])
	if count <= 0 {
		return nil, Error(pgerr.InvalidArgumentForWidthBucket, "count must be greater than zero")
	}
	var v [3]float64
	for i := range v {
		f, err := num(a[i])
		if err != nil {
			return nil, err
		}
		v[i] = f
	}
	x, lo, hi := v[0], v[1], v[2]
	if lo == hi {
		return nil, Error(pgerr.InvalidArgumentForWidthBucket, "lower bound cannot equal upper bound")
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, Error(pgerr.InvalidArgumentForWidthBucket, "lower and upper bounds must be finite")
	}
	switch {
	case lo < hi && x < lo, lo > hi && x > lo:
		return int64(0), nil
	case lo < hi && x >= hi, lo > hi && x <= hi:
		if count == math.MaxInt32 {
			return nil, Error(pgerr.NumericValueOutOfRange, "integer out of range")
		}
		return count + 1, nil
	case lo < hi:
		return int64(float64(count)*(x-lo)/(hi-lo) + 1), nil
	}
	return int64(float64(count)*(lo-x)/(lo-hi) + 1), nil
}
