package funcs

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
)

// decimal is an exact numeric value: unscaled × 10^-scale, or one of
// PostgreSQL's special values. The scale is the display scale: "1.50" has
// scale 2 and prints with two fraction digits.
type decimal struct {
	u     big.Int
	scale int32
	// special is "", "NaN", "Infinity" or "-Infinity".
	special string
}

// Bounds from PostgreSQL's numeric.c.
const (
	numericMinSigDigits    = 16
	numericMaxDisplayScale = 1000
	numericMaxResultScale  = 2000
	maxNumericDigits       = 131072 + 16383
)

var bigTen = big.NewInt(10)

func pow10(n int32) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// parseDecimal reads a storage value (decimal text, integer or float).
func parseDecimal(v any) (decimal, error) {
	var d decimal
	switch x := v.(type) {
	case int64:
		d.u.SetInt64(x)
		return d, nil
	case float64:
		switch {
		case math.IsNaN(x):
			d.special = "NaN"
			return d, nil
		case math.IsInf(x, 1):
			d.special = "Infinity"
			return d, nil
		case math.IsInf(x, -1):
			d.special = "-Infinity"
			return d, nil
		}
		return parseDecimalText(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		return parseDecimalText(x)
	case []byte:
		return parseDecimalText(string(x))
	}
	return d, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type numeric: %v", v)
}

func parseDecimalText(s string) (decimal, error) {
	var d decimal
	canon := strings.TrimSpace(s)
	if !isCanonicalDecimal(canon) {
		c, err := pgval.ParseNumeric(s)
		if err != nil {
			return d, err
		}
		canon = c
	}
	switch canon {
	case "NaN", "Infinity", "-Infinity":
		d.special = canon
		return d, nil
	}
	digits := canon
	if i := strings.IndexByte(canon, '.'); i >= 0 {
		d.scale = int32(len(canon) - i - 1)
		digits = canon[:i] + canon[i+1:]
	}
	if _, ok := d.u.SetString(digits, 10); !ok {
		return d, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type numeric: %q", s)
	}
	return d, nil
}

// isCanonicalDecimal reports whether s is plain [-]digits[.digits].
func isCanonicalDecimal(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' {
		i = 1
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}

// String renders the value as PostgreSQL's numeric output.
func (d decimal) String() string {
	if d.special != "" {
		return d.special
	}
	s := new(big.Int).Abs(&d.u).String()
	if d.scale > 0 {
		if int32(len(s)) <= d.scale {
			s = strings.Repeat("0", int(d.scale)-len(s)+1) + s
		}
		s = s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
	}
	if d.u.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// rescale returns d at scale s, rounding half away from zero.
func (d decimal) rescale(s int32) decimal {
	if d.special != "" || s == d.scale {
		return d
	}
	var out decimal
	out.scale = s
	if s > d.scale {
		out.u.Mul(&d.u, pow10(s-d.scale))
		return out
	}
	div := pow10(d.scale - s)
	q, r := new(big.Int).QuoRem(&d.u, div, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(div) >= 0 {
		if d.u.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	out.u.Set(q)
	return out
}

// truncate returns d at scale s, dropping digits.
func (d decimal) truncate(s int32) decimal {
	if d.special != "" || s >= d.scale {
		return d.rescale(s)
	}
	var out decimal
	out.scale = s
	out.u.Quo(&d.u, pow10(d.scale-s))
	return out
}

func (d decimal) sign() int {
	switch d.special {
	case "Infinity":
		return 1
	case "-Infinity":
		return -1
	case "NaN":
		return 0
	}
	return d.u.Sign()
}

// cmp orders numerics as PostgreSQL does: NaN above everything.
func (d decimal) cmp(e decimal) int {
	rank := func(x decimal) int {
		switch x.special {
		case "-Infinity":
			return -1
		case "Infinity":
			return 1
		case "NaN":
			return 2
		}
		return 0
	}
	if rd, re := rank(d), rank(e); rd != 0 || re != 0 {
		switch {
		case rd == re:
			return 0
		case rd == 0:
			return -re / abs(re)
		case re == 0:
			return rd / abs(rd)
		case rd < re:
			return -1
		}
		return 1
	}
	s := max(d.scale, e.scale)
	a, b := d.rescale(s), e.rescale(s)
	return a.u.Cmp(&b.u)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func special(s string) decimal { return decimal{special: s} }

func (d decimal) add(e decimal) decimal {
	if d.special != "" || e.special != "" {
		return addSpecial(d, e)
	}
	s := max(d.scale, e.scale)
	a, b := d.rescale(s), e.rescale(s)
	var out decimal
	out.scale = s
	out.u.Add(&a.u, &b.u)
	return out
}

func addSpecial(d, e decimal) decimal {
	if d.special == "NaN" || e.special == "NaN" {
		return special("NaN")
	}
	if d.special != "" && e.special != "" && d.special != e.special {
		return special("NaN") // Infinity - Infinity
	}
	if d.special != "" {
		return d
	}
	return e
}

func (d decimal) neg() decimal {
	if d.special != "" {
		switch d.special {
		case "Infinity":
			return special("-Infinity")
		case "-Infinity":
			return special("Infinity")
		}
		return d
	}
	var out decimal
	out.scale = d.scale
	out.u.Neg(&d.u)
	return out
}

func (d decimal) mul(e decimal) decimal {
	if d.special != "" || e.special != "" {
		if d.special == "NaN" || e.special == "NaN" || d.sign() == 0 || e.sign() == 0 {
			return special("NaN")
		}
		if d.sign()*e.sign() > 0 {
			return special("Infinity")
		}
		return special("-Infinity")
	}
	var out decimal
	out.scale = d.scale + e.scale
	out.u.Mul(&d.u, &e.u)
	if out.scale > numericMaxResultScale {
		return out.rescale(numericMaxResultScale)
	}
	return out
}

// groupWeight returns PostgreSQL's base-10000 weight of the first non-zero
// digit group of d, and that group's value (0, 0 for zero).
func (d decimal) groupWeight() (int, int64) {
	if d.u.Sign() == 0 {
		return 0, 0
	}
	a := new(big.Int).Abs(&d.u)
	e := len(a.String()) - 1 - int(d.scale) // decimal exponent of the leading digit
	w := e / 4
	if e < 0 && e%4 != 0 {
		w-- // floor division
	}
	k := int32(-4*w) - d.scale
	g := new(big.Int)
	if k >= 0 {
		g.Mul(a, pow10(k))
	} else {
		g.Quo(a, pow10(-k))
	}
	g.Mod(g, big.NewInt(10000))
	return w, g.Int64()
}

// divScale is PostgreSQL's select_div_scale: at least 16 significant
// digits, and no fewer fraction digits than either input.
func divScale(d, e decimal) int32 {
	w1, f1 := d.groupWeight()
	w2, f2 := e.groupWeight()
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := int32(numericMinSigDigits - qweight*4)
	rscale = max(rscale, d.scale, e.scale, 0)
	return min(rscale, numericMaxDisplayScale)
}

func (d decimal) div(e decimal) (decimal, error) {
	if d.special != "" || e.special != "" {
		switch {
		case d.special == "NaN" || e.special == "NaN":
			return special("NaN"), nil
		case d.special != "" && e.special != "":
			return special("NaN"), nil
		case e.special != "":
			return decimal{}, nil // finite / infinity = 0
		case e.sign() == 0:
			return decimal{}, Error(pgerr.DivisionByZero, "division by zero")
		case d.sign()*e.sign() > 0:
			return special("Infinity"), nil
		}
		return special("-Infinity"), nil
	}
	if e.u.Sign() == 0 {
		return decimal{}, Error(pgerr.DivisionByZero, "division by zero")
	}
	return d.divTo(e, divScale(d, e)), nil
}

// divTo divides to scale s, rounding half away from zero.
func (d decimal) divTo(e decimal, s int32) decimal {
	// d/e = (du/10^ds) / (eu/10^es); scaled by 10^(s+1) for rounding.
	num := new(big.Int).Mul(&d.u, pow10(s+1+e.scale))
	den := new(big.Int).Mul(&e.u, pow10(d.scale))
	q := new(big.Int).Quo(num, den)
	out := decimal{scale: s + 1}
	out.u.Set(q)
	return out.rescale(s)
}

// mod is PostgreSQL's numeric %: the remainder of truncating division.
func (d decimal) mod(e decimal) (decimal, error) {
	if d.special != "" || e.special != "" {
		if d.special == "NaN" || e.special == "NaN" || d.special != "" {
			return special("NaN"), nil
		}
		return d, nil
	}
	if e.u.Sign() == 0 {
		return decimal{}, Error(pgerr.DivisionByZero, "division by zero")
	}
	s := max(d.scale, e.scale)
	a, b := d.rescale(s), e.rescale(s)
	var out decimal
	out.scale = s
	out.u.Rem(&a.u, &b.u)
	return out, nil
}

// checkTypmod enforces numeric(p, s): round to s fraction digits, then at
// most p - s integer digits.
func (d decimal) checkTypmod(typmod int32) (decimal, error) {
	m := typmod - 4
	prec, scale := m>>16, m&0xffff
	if scale > 0x7ff {
		scale -= 0x1000 // negative scales are stored in 11 bits
	}
	if typmod < 4 || d.special != "" {
		if (d.special == "Infinity" || d.special == "-Infinity") && typmod >= 4 {
			return d, FromPG(pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").
				WithDetail("A field with precision %d, scale %d cannot hold an infinite value.", prec, scale))
		}
		return d, nil
	}
	r := d.rescale(scale)
	intDigits := int32(len(new(big.Int).Abs(&r.u).String())) - r.scale
	if r.u.Sign() == 0 {
		intDigits = 0
	}
	if maxDigits := prec - scale; intDigits > maxDigits {
		limit := "1" // PostgreSQL shows 10^0 as 1
		if maxDigits != 0 {
			limit = fmt.Sprintf("10^%d", maxDigits)
		}
		return d, FromPG(pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d must round to an absolute value less than %s.", prec, scale, limit))
	}
	return r, nil
}
