package funcs

import (
	"database/sql/driver"
	"math"

	"modernc.org/sqlite"
)

// Statistical aggregates: variance and standard deviation, population and
// sample, as PostgreSQL computes them — exactly over numeric sums for
// integer and numeric input (numeric_stddev_internal), and with the
// Youngs-Cramer recurrence over double precision input (float8_accum).
// Each is registered once per mode (statModes) and input kind.

type statMode int64

// statModes are the aggregates by their SQLite name stem.
var statModes = map[string]statMode{"var_samp": 0, "var_pop": 1, "stddev_samp": 2, "stddev_pop": 3}

func (m statMode) sample() bool { return m == 0 || m == 2 }
func (m statMode) stddev() bool { return m >= 2 }

// numericStat accumulates N, ΣX and ΣX² exactly.
type numericStat struct {
	n           int64
	sumX, sumX2 decimal
	mode        statMode
}

func (s *numericStat) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	return s.accum(args, 1)
}

func (s *numericStat) WindowInverse(_ *sqlite.FunctionContext, args []driver.Value) error {
	return s.accum(args, -1)
}

func (s *numericStat) accum(args []driver.Value, sign int64) error {
	if args[0] == nil {
		return nil
	}
	d, err := numArg(args[0])
	if err != nil {
		return err
	}
	sq := d.mul(d)
	if sign < 0 {
		d, sq = d.neg(), sq.neg()
	}
	s.sumX, s.sumX2 = s.sumX.add(d), s.sumX2.add(sq)
	s.n += sign
	return nil
}

func (s *numericStat) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	comp := int64(0)
	if s.mode.sample() {
		comp = 1
	}
	if s.n <= comp {
		return nil, nil
	}
	if s.sumX.special != "" || s.sumX2.special != "" {
		return "NaN", nil
	}
	var n, nm decimal
	n.u.SetInt64(s.n)
	// N·ΣX² − (ΣX)², over N·(N−1) or N².
	num := n.mul(s.sumX2).add(s.sumX.mul(s.sumX).neg())
	if num.sign() <= 0 {
		return "0", nil
	}
	if s.mode.sample() {
		nm.u.SetInt64(s.n * (s.n - 1))
	} else {
		nm.u.SetInt64(s.n * s.n)
	}
	rscale := divScale(num, nm)
	v := num.divTo(nm, rscale)
	if s.mode.stddev() {
		prec := bigPrec(int(rscale) + 40)
		f := toBig(v, prec)
		v = fromBig(f.Sqrt(f), rscale)
	}
	return v.String(), nil
}

func (s *numericStat) Final(*sqlite.FunctionContext) {}

// floatStat keeps the frame's values: the recurrence depends on their
// order, and PostgreSQL recomputes a moving frame rather than undo it.
type floatStat struct {
	vals []float64
	mode statMode
}

func (s *floatStat) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if args[0] != nil {
		s.vals = append(s.vals, asFloat(args[0]))
	}
	return nil
}

func (s *floatStat) WindowInverse(_ *sqlite.FunctionContext, args []driver.Value) error {
	if args[0] != nil && len(s.vals) > 0 {
		s.vals = s.vals[1:]
	}
	return nil
}

func (s *floatStat) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	var n, sx, sxx float64
	for _, x := range s.vals {
		prev := n
		n++
		sx += x
		if prev > 0 {
			tmp := x*n - sx
			sxx += tmp * tmp / (n * prev)
		} else if math.IsInf(x, 0) || math.IsNaN(x) {
			sxx = math.NaN()
		}
	}
	var v float64
	switch {
	case s.mode.sample() && n <= 1, n == 0:
		return nil, nil
	case s.mode.sample():
		v = sxx / (n - 1)
	default:
		v = sxx / n
	}
	if s.mode.stddev() {
		v = math.Sqrt(v)
	}
	return v, nil
}

func (s *floatStat) Final(*sqlite.FunctionContext) {}
