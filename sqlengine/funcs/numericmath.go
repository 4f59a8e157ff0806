package funcs

import (
	"database/sql/driver"
	"math"
	"math/big"
	"strconv"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
)

// Numeric transcendental functions with PostgreSQL's choice of result
// scale (numeric.c): at least 16 significant digits and no fewer fraction
// digits than the inputs. Values are computed in binary floating point
// with ample guard digits and rounded half away from zero to that scale.

func numericMathFunctions() map[string]fnDef {
	return map[string]fnDef{
		"chr2_num_exp":   {1, numUnary(numExp)},
		"chr2_num_ln":    {1, numUnary(func(x decimal) (decimal, error) { return numLog(decimal{}, x, false) })},
		"chr2_num_log":   {2, numBinary(func(b, x decimal) (decimal, error) { return numLog(b, x, true) })},
		"chr2_num_power": {2, numBinary(numPower)},
		"chr2_num_sqrt":  {1, numUnary(numSqrt)},
		"chr2_num_gcd":   {2, numBinary(func(a, b decimal) (decimal, error) { return numGcdLcm(a, b, false) })},
		"chr2_num_lcm":   {2, numBinary(func(a, b decimal) (decimal, error) { return numGcdLcm(a, b, true) })},
		"chr2_factorial": {1, factorialFn},
		"chr2_int_gcd":   {3, intGcdLcm(false)},
		"chr2_int_lcm":   {3, intGcdLcm(true)},
		"chr2_num_scale": {1, numScaleFn(func(d decimal) driver.Value { return int64(d.scale) })},
		"chr2_num_min_scale": {1, numScaleFn(func(d decimal) driver.Value {
			return int64(trimScale(d).scale)
		})},
		"chr2_num_trim_scale": {1, numScaleFn(func(d decimal) driver.Value { return trimScale(d).String() })},
		"chr2_width_bucket_num": {4, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return widthBucketNumeric(a)
		}},
	}
}

// clampScale bounds a result scale as every numeric.c function does.
func clampScale(rscale int, inputs ...decimal) int32 {
	for _, d := range inputs {
		rscale = max(rscale, int(d.scale))
	}
	return int32(min(max(rscale, 0), numericMaxDisplayScale))
}

// approxFloat is d as a double, saturating instead of overflowing.
func approxFloat(d decimal) float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// lnDweight is estimate_ln_dweight: the decimal weight of ln(d).
func lnDweight(d decimal) int {
	if d.sign() <= 0 {
		return 0
	}
	one := decimal{}
	one.u.SetInt64(1)
	x := approxFloat(d)
	if x >= 0.9 && x <= 1.1 {
		diff := d.add(one.neg())
		if diff.sign() == 0 {
			return 0
		}
		return int(math.Floor(math.Log10(math.Abs(approxFloat(diff)))))
	}
	digits := new(big.Int).Abs(&d.u).String()
	lead := digits
	if len(lead) > 8 {
		lead = lead[:8]
	}
	m, _ := strconv.ParseFloat(lead, 64)
	exp10 := len(digits) - len(lead) - int(d.scale)
	return int(math.Log10(math.Abs(math.Log(m) + float64(exp10)*math.Ln10)))
}

// bigPrec is the binary precision for a result of digits decimal digits.
func bigPrec(digits int) uint { return uint(float64(digits)*3.33) + 96 }

func toBig(d decimal, prec uint) *big.Float {
	f := new(big.Float).SetPrec(prec).SetInt(&d.u)
	return f.Quo(f, new(big.Float).SetPrec(prec).SetInt(pow10(d.scale)))
}

// fromBig rounds f half away from zero to scale fraction digits.
func fromBig(f *big.Float, scale int32) decimal {
	d, err := parseDecimalText(f.Text('f', int(scale)+12))
	if err != nil {
		return special("NaN")
	}
	return d.rescale(scale)
}

// bigLn is the natural logarithm of x > 0: x = m·2^e, ln m from the atanh
// series after square roots bring m close to 1.
func bigLn(x *big.Float, prec uint) *big.Float {
	m := new(big.Float).SetPrec(prec)
	e := x.MantExp(m)
	l := lnNearOne(m, prec)
	if e != 0 {
		half := new(big.Float).SetPrec(prec).SetFloat64(0.5)
		ln2 := lnNearOne(half, prec)
		ln2.Neg(ln2)
		l.Add(l, ln2.Mul(ln2, new(big.Float).SetPrec(prec).SetInt64(int64(e))))
	}
	return l
}

// lnNearOne is ln m for m in [0.5, 1).
func lnNearOne(m *big.Float, prec uint) *big.Float {
	const halvings = 12
	y := new(big.Float).SetPrec(prec).Set(m)
	for i := 0; i < halvings; i++ {
		y.Sqrt(y)
	}
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	num := new(big.Float).SetPrec(prec).Sub(y, one)
	den := new(big.Float).SetPrec(prec).Add(y, one)
	z := num.Quo(num, den)
	z2 := new(big.Float).SetPrec(prec).Mul(z, z)
	sum := new(big.Float).SetPrec(prec).Set(z)
	term := new(big.Float).SetPrec(prec).Set(z)
	for n := int64(3); ; n += 2 {
		term.Mul(term, z2)
		t := new(big.Float).SetPrec(prec).Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		if t.Sign() == 0 || sum.MantExp(nil)-t.MantExp(nil) > int(prec) {
			break
		}
		sum.Add(sum, t)
	}
	return sum.SetMantExp(sum, 1+halvings)
}

// bigExp is e^x: the Taylor series of x/2^k, squared k times.
func bigExp(x *big.Float, prec uint) *big.Float {
	k := max(x.MantExp(nil)+12, 0)
	prec += uint(k)
	r := new(big.Float).SetPrec(prec).SetMantExp(x, -k)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := int64(1); ; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(n))
		if term.Sign() == 0 || sum.MantExp(nil)-term.MantExp(nil) > int(prec) {
			break
		}
		sum.Add(sum, term)
	}
	for i := 0; i < k; i++ {
		sum.Mul(sum, sum)
	}
	return sum
}

func overflowErr() error {
	return Error(pgerr.NumericValueOutOfRange, "value overflows numeric format")
}

// numExp is exp(numeric).
func numExp(x decimal) (decimal, error) {
	if x.special != "" {
		return expSpecial(x), nil
	}
	val := approxFloat(x)
	rscale := clampScale(numericMinSigDigits-int(max(min(val*0.434294481903252, numericMaxResultScale), -numericMaxResultScale)), x)
	if math.Abs(val) >= numericMaxResultScale*3 {
		if val > 0 {
			return decimal{}, overflowErr()
		}
		return decimal{scale: rscale}, nil
	}
	digits := int(math.Max(val*0.434294481903252, 0)) + int(rscale) + 8
	prec := bigPrec(digits)
	return fromBig(bigExp(toBig(x, prec), prec), rscale), nil
}

func expSpecial(x decimal) decimal {
	if x.special == "-Infinity" {
		return decimal{}
	}
	return x
}

// logArg checks the argument of a logarithm.
func logArg(x decimal) error {
	switch {
	case x.special == "NaN" || x.special == "Infinity":
		return nil
	case x.sign() == 0:
		return Error(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of zero")
	case x.sign() < 0:
		return Error(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of a negative number")
	}
	return nil
}

// numLog is ln(x) (withBase false) or log(base, x).
func numLog(base, x decimal, withBase bool) (decimal, error) {
	if err := logArg(x); err != nil {
		return decimal{}, err
	}
	if withBase {
		if err := logArg(base); err != nil {
			return decimal{}, err
		}
	}
	if x.special != "" || base.special != "" {
		return special("NaN"), nil
	}
	var rscale int32
	if withBase {
		rscale = clampScale(numericMinSigDigits-(lnDweight(x)-lnDweight(base)), base, x)
	} else {
		rscale = clampScale(numericMinSigDigits-lnDweight(x), x)
	}
	prec := bigPrec(int(rscale) + 40)
	l := bigLn(toBig(x, prec), prec)
	if withBase {
		lb := bigLn(toBig(base, prec), prec)
		if lb.Sign() == 0 {
			return decimal{}, Error(pgerr.DivisionByZero, "division by zero")
		}
		l.Quo(l, lb)
	}
	return fromBig(l, rscale), nil
}

// isIntegral reports whether d has no fractional part.
func isIntegral(d decimal) bool {
	return d.special == "" && d.truncate(0).cmp(d) == 0
}

// numPower is power(numeric, numeric) as PostgreSQL 15 computes it.
func numPower(b, e decimal) (decimal, error) {
	if b.special != "" || e.special != "" {
		return special("NaN"), nil
	}
	if b.sign() == 0 && e.sign() < 0 {
		return decimal{}, Error(pgerr.InvalidArgumentForPowerFunction, "zero raised to a negative power is undefined")
	}
	if b.sign() < 0 && !isIntegral(e) {
		return decimal{}, Error(pgerr.InvalidArgumentForPowerFunction,
			"a negative number raised to a non-integer power yields a complex result")
	}
	if isIntegral(e) && math.Abs(approxFloat(e)) <= math.MaxInt32 {
		rscale := clampScale(numericMinSigDigits, b)
		if e.sign() == 0 {
			one := decimal{scale: rscale}
			one.u.Set(pow10(rscale))
			return one, nil
		}
		return powerRat(b, e, rscale)
	}
	if b.sign() == 0 {
		return decimal{scale: numericMinSigDigits}, nil
	}
	val := approxFloat(e) * math.Log(approxFloat(b))
	if math.Abs(val) > numericMaxResultScale*3.01 {
		if val > 0 {
			return decimal{}, overflowErr()
		}
		return decimal{scale: numericMaxDisplayScale}, nil
	}
	rscale := clampScale(numericMinSigDigits-int(val*0.434294481903252), b, e)
	prec := bigPrec(int(math.Max(val*0.434294481903252, 0)) + int(rscale) + 40)
	l := bigLn(toBig(b, prec), prec)
	l.Mul(l, toBig(e, prec))
	return fromBig(bigExp(l, prec), rscale), nil
}

// powerRat raises b to the integral power e exactly, then rounds.
func powerRat(b, e decimal, rscale int32) (decimal, error) {
	t := e.truncate(0)
	n := t.u.Int64()
	if math.Abs(float64(n)*math.Log10(math.Abs(approxFloat(b))+1e-300)) > numericMaxResultScale*3 {
		if n > 0 {
			return decimal{}, overflowErr()
		}
		return decimal{scale: rscale}, nil
	}
	r := new(big.Rat).SetFrac(&b.u, pow10(b.scale))
	out := new(big.Rat).SetInt64(1)
	for i := int64(0); i < abs64(n); i++ {
		out.Mul(out, r)
	}
	if n < 0 {
		out.Inv(out)
	}
	return ratToDecimal(out, rscale), nil
}

// ratToDecimal rounds r half away from zero to scale digits.
func ratToDecimal(r *big.Rat, scale int32) decimal {
	d, _ := parseDecimalText(r.FloatString(int(scale) + 1))
	return d.rescale(scale)
}

// numSqrt is sqrt(numeric).
func numSqrt(x decimal) (decimal, error) {
	if x.sign() < 0 {
		return decimal{}, Error(pgerr.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
	}
	if x.special != "" {
		return x, nil
	}
	w, _ := x.groupWeight()
	sweight := (w+1)*4/2 - 1
	rscale := clampScale(numericMinSigDigits-sweight, x)
	prec := bigPrec(int(rscale) + max(sweight, 0) + 20)
	f := toBig(x, prec)
	return fromBig(f.Sqrt(f), rscale), nil
}

// trimScale drops trailing fractional zeros.
func trimScale(d decimal) decimal {
	if d.special != "" {
		return d
	}
	for d.scale > 0 {
		t := d.truncate(d.scale - 1)
		if t.rescale(d.scale).cmp(d) != 0 {
			break
		}
		d = t
	}
	return d
}

func numScaleFn(f func(decimal) driver.Value) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		d, err := numArg(a[0])
		if err != nil {
			return nil, err
		}
		if d.special != "" {
			if _, isScale := f(decimal{}).(int64); isScale {
				return nil, nil
			}
		}
		return f(d), nil
	}
}

// numGcdLcm is gcd or lcm of numerics, at the larger scale.
func numGcdLcm(a, b decimal, lcm bool) (decimal, error) {
	if a.special != "" || b.special != "" {
		return special("NaN"), nil
	}
	s := max(a.scale, b.scale)
	ar, br := a.rescale(s), b.rescale(s)
	x, y := new(big.Int).Abs(&ar.u), new(big.Int).Abs(&br.u)
	g := new(big.Int).GCD(nil, nil, x, y)
	out := decimal{scale: s}
	switch {
	case !lcm:
		out.u.Set(g)
	case g.Sign() == 0:
	default:
		out.u.Mul(x, new(big.Int).Quo(y, g))
	}
	return out, nil
}

// intGcdLcm is gcd/lcm of integers of the given bit width.
func intGcdLcm(lcm bool) scalarFn {
	return func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		x, y := big.NewInt(asInt(a[0])), big.NewInt(asInt(a[1]))
		bits := asInt(a[2])
		x.Abs(x)
		y.Abs(y)
		r := new(big.Int).GCD(nil, nil, x, y)
		if lcm && r.Sign() != 0 {
			r.Mul(x, new(big.Int).Quo(y, r))
		}
		limit := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		if r.Cmp(limit) >= 0 {
			if bits == 64 {
				return nil, Error(pgerr.NumericValueOutOfRange, "bigint out of range")
			}
			return nil, Error(pgerr.NumericValueOutOfRange, "integer out of range")
		}
		return r.Int64(), nil
	}
}

// factorialFn is factorial(bigint) as numeric.
func factorialFn(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil {
		return nil, nil
	}
	n := asInt(a[0])
	if n < 0 {
		return nil, Error(pgerr.NumericValueOutOfRange, "factorial of a negative number is undefined")
	}
	if n > 32177 {
		return nil, overflowErr()
	}
	r := new(big.Int).MulRange(1, max(n, 1))
	return r.String(), nil
}

// widthBucketNumeric is width_bucket over numerics, computed exactly.
func widthBucketNumeric(a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil || a[2] == nil || a[3] == nil {
		return nil, nil
	}
	count := asInt(a[3])
	if count <= 0 {
		return nil, Error(pgerr.InvalidArgumentForWidthBucket, "count must be greater than zero")
	}
	var r [3]*big.Rat
	for i := range r {
		d, err := numArg(a[i])
		if err != nil {
			return nil, err
		}
		if d.special == "NaN" {
			return nil, Error(pgerr.InvalidArgumentForWidthBucket, "operand, lower bound, and upper bound cannot be NaN")
		}
		if d.special != "" && i > 0 {
			return nil, Error(pgerr.InvalidArgumentForWidthBucket, "lower and upper bounds must be finite")
		}
		if d.special != "" { // an infinite operand lies outside any bounds
			sign := d.sign()
			d = decimal{}
			d.u.Set(pow10(numericMaxResultScale * 2))
			if sign < 0 {
				d.u.Neg(&d.u)
			}
		}
		r[i] = new(big.Rat).SetFrac(&d.u, pow10(d.scale))
	}
	x, lo, hi := r[0], r[1], r[2]
	c := lo.Cmp(hi)
	if c == 0 {
		return nil, Error(pgerr.InvalidArgumentForWidthBucket, "lower bound cannot equal upper bound")
	}
	switch {
	case c < 0 && x.Cmp(lo) < 0, c > 0 && x.Cmp(lo) > 0:
		return int64(0), nil
	case c < 0 && x.Cmp(hi) >= 0, c > 0 && x.Cmp(hi) <= 0:
		if count == math.MaxInt32 {
			return nil, Error(pgerr.NumericValueOutOfRange, "integer out of range")
		}
		return count + 1, nil
	}
	q := new(big.Rat).Sub(x, lo)
	q.Mul(q, new(big.Rat).SetInt64(count))
	q.Quo(q, new(big.Rat).Sub(hi, lo))
	return new(big.Int).Quo(q.Num(), q.Denom()).Int64() + 1, nil
}
