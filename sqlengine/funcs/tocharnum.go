package funcs

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"strings"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
)

// to_char for numbers: a port of PostgreSQL's NUMDesc_prepare and the
// to_char half of NUM_processor (formatting.c), in the C locale (decimal
// point ".", group separator ",", currency symbol " ").

var numKeywords = []string{",", ".", "0", "9", "B", "C", "D", "EEEE", "FM", "G", "L", "MI", "PL", "PR", "RN", "SG", "SP",
	"S", "TH", "V", "b", "c", "d", "eeee", "fm", "g", "l", "mi", "pl", "pr", "rn", "sg", "sp", "s", "th", "v"}

// numDesc is the parsed description of a number template (NUMDesc).
type numDesc struct {
	pre, post, multi      int
	zeroStart, zeroEnd    int
	preLsign              int
	lsign                 int // 0 none, 1 pre, 2 post
	decimal, zero, fill   bool
	bracket, plus, minus  bool
	roman, eeee, lsignSet bool
}

type numNode struct {
	key  string // upper-case keyword, "" for literal text
	text string // literal text, or the keyword as written
}

func numSyntax(format string, args ...any) error {
	return Error(pgerr.SyntaxError, format, args...)
}

// parseNum splits a number template and describes it.
func parseNum(f string) ([]numNode, numDesc, error) {
	var nodes []numNode
	var d numDesc
	for i := 0; i < len(f); {
		kw := matchKeyword(numKeywords, f[i:])
		if kw == "" {
			text, size := literalText(f[i:])
			nodes = append(nodes, numNode{text: text})
			i += size
			continue
		}
		i += len(kw)
		up := strings.ToUpper(kw)
		nodes = append(nodes, numNode{key: up, text: kw})
		if err := d.add(up); err != nil {
			return nil, d, err
		}
	}
	return nodes, d, nil
}

// add is NUMDesc_prepare for one keyword.
func (d *numDesc) add(key string) error {
	switch key {
	case "9", "0":
		if d.bracket {
			return numSyntax("\"%s\" must be ahead of \"PR\"", key)
		}
		if key == "9" && d.multi > 0 {
			d.multi++
			return nil
		}
		if key == "0" && !d.zero && !d.decimal {
			d.zero, d.zeroStart = true, d.pre+1
		}
		if d.decimal {
			d.post++
		} else {
			d.pre++
		}
		if key == "0" {
			d.zeroEnd = d.pre + d.post
		}
	case "D", ".":
		if d.decimal {
			return numSyntax("multiple decimal points")
		}
		if d.multi > 0 {
			return numSyntax("cannot use \"V\" and decimal point together")
		}
		d.decimal = true
	case "FM":
		d.fill = true
	case "S":
		if d.lsignSet {
			return numSyntax("cannot use \"S\" twice")
		}
		if d.plus || d.minus || d.bracket {
			return numSyntax("cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together")
		}
		if !d.decimal {
			d.lsign, d.preLsign, d.lsignSet = 1, d.pre, true
		} else if d.lsign == 0 {
			d.lsign, d.lsignSet = 2, true
		}
	case "MI", "PL", "SG":
		if d.lsignSet {
			return numSyntax("cannot use \"S\" and \"%s\" together", key)
		}
		d.minus = d.minus || key != "PL"
		d.plus = d.plus || key != "MI"
	case "PR":
		if d.lsignSet || d.plus || d.minus {
			return numSyntax("cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together")
		}
		d.bracket = true
	case "RN":
		d.roman = true
	case "V":
		if d.decimal {
			return numSyntax("cannot use \"V\" and decimal point together")
		}
		d.multi = 1
	case "EEEE":
		if d.eeee {
			return numSyntax("cannot use \"EEEE\" twice")
		}
		if d.bracket || d.minus || d.plus || d.roman || d.multi > 0 {
			return numSyntax("\"EEEE\" is incompatible with other formats")
		}
		d.eeee = true
	}
	return nil
}

// toCharNum is chr2_to_char_num(value, template, kind): kind is "int",
// "float4", "float8" or "numeric", the argument's type, which decides how
// the value is rounded to the template's digits.
func toCharNum(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	nodes, d, err := parseNum(fmt.Sprint(a[1]))
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	val, err := parseDecimal(a[0])
	if err != nil {
		return nil, err
	}
	if d.roman {
		return romanText(val, d), nil
	}
	if d.eeee {
		return sciText(val, d.post), nil
	}
	kind := fmt.Sprint(a[2])
	digits := numberDigits(val, a[0], kind, &d)
	sign := '+'
	if strings.HasPrefix(digits, "-") {
		sign, digits = '-', digits[1:]
	}
	preLen := len(digits)
	if i := strings.IndexByte(digits, '.'); i >= 0 {
		preLen = i
	}
	spaces := 0
	if preLen < d.pre {
		spaces = d.pre - preLen
	} else if preLen > d.pre {
		digits = strings.Repeat("#", d.pre) + "." + strings.Repeat("#", d.post)
	}
	np := &numProc{d: d, number: digits, sign: sign, outPreSpaces: spaces}
	return np.run(nodes), nil
}

// numberDigits renders the absolute value with the template's fraction
// digits, as the typed to_char variants do.
func numberDigits(val decimal, raw driver.Value, kind string, d *numDesc) string {
	if d.multi > 0 {
		val = val.mul(decimal{u: *pow10(int32(d.multi))})
		d.pre += d.multi
	}
	switch kind {
	case "int":
		s := val.rescale(0).String()
		if d.post > 0 {
			s += "." + strings.Repeat("0", d.post)
		}
		return s
	case "float4", "float8":
		f := asFloat(raw) * math.Pow10(d.multi)
		maxDigits := 15
		if kind == "float4" {
			maxDigits = 6
		}
		pre := len(strconv.FormatFloat(math.Abs(f), 'f', 0, 64))
		if pre >= maxDigits {
			d.post = 0
		} else if pre+d.post > maxDigits {
			d.post = maxDigits - pre
		}
		return strconv.FormatFloat(f, 'f', d.post, 64)
	}
	s := val.rescale(int32(d.post)).String()
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:] // numeric_round leaves no negative zero
	}
	return s
}

// numProc is the state of NUM_processor while it writes.
type numProc struct {
	d                 numDesc
	number            string
	pos               int // index into number (number_p)
	sign              rune
	signWrote, numIn  bool
	outPreSpaces      int
	numCount, numCurr int
	lastRelevant      int // index of the last relevant decimal digit, -1 none
	out               strings.Builder
}

func (np *numProc) run(nodes []numNode) string {
	d := &np.d
	if d.plus || d.minus {
		np.signWrote = !(d.plus && !d.minus)
	} else {
		if np.sign != '-' && d.fill {
			d.bracket = false
		}
		np.signWrote = np.sign == '+' && d.fill && d.lsign == 0
		if d.lsign == 1 && d.pre == d.preLsign {
			d.lsign = 2
		}
	}
	if d.zeroStart > 0 {
		d.zeroStart--
	}
	np.numCount = d.post + d.pre - 1
	np.lastRelevant = -1
	if d.fill && d.decimal {
		np.lastRelevant = lastRelevantDigit(np.number)
		if np.lastRelevant >= 0 && d.zeroEnd > np.outPreSpaces {
			lastZero := min(len(np.number)-1, d.zeroEnd-np.outPreSpaces)
			if np.lastRelevant < lastZero {
				np.lastRelevant = lastZero
			}
		}
	}
	if !np.signWrote && np.outPreSpaces == 0 {
		np.numCount++
	}
	for _, n := range nodes {
		np.node(n)
	}
	return np.out.String()
}

// node writes one template element.
func (np *numProc) node(n numNode) {
	d := &np.d
	switch n.key {
	case "":
		np.out.WriteString(n.text)
	case "9", "0", ".", "D":
		np.numPart(n.key)
	case ",", "G":
		switch {
		case np.numIn:
			np.out.WriteByte(',')
		case !d.fill:
			np.out.WriteByte(' ')
		}
	case "L":
		np.out.WriteByte(' ')
	case "TH":
		if np.number[0] == '#' || np.sign == '-' || d.decimal {
			return
		}
		np.out.WriteString(ordinalSuffix(np.number, n.text == "TH"))
	case "MI":
		switch {
		case np.sign == '-':
			np.out.WriteByte('-')
		case !d.fill:
			np.out.WriteByte(' ')
		}
	case "PL":
		switch {
		case np.sign == '+':
			np.out.WriteByte('+')
		case !d.fill:
			np.out.WriteByte(' ')
		}
	case "SG":
		np.out.WriteRune(np.sign)
	}
}

func (np *numProc) predecSpace() bool {
	return !np.d.zero && np.pos == 0 && len(np.number) > 0 && np.number[0] == '0' && np.d.post != 0
}

func (np *numProc) cur() byte {
	if np.pos < len(np.number) {
		return np.number[np.pos]
	}
	return 0
}

// numPart is NUM_numpart_to_char: the sign where it belongs, then a digit,
// a padding space, a leading zero or the decimal point.
func (np *numProc) numPart(id string) {
	d := &np.d
	lastIsDot := np.lastRelevant >= 0 && np.number[np.lastRelevant] == '.'
	if !np.signWrote && (np.numCurr >= np.outPreSpaces || d.zero && d.zeroStart == np.numCurr) &&
		(!np.predecSpace() || lastIsDot) {
		switch {
		case d.lsign == 1:
			np.out.WriteRune(np.sign)
			np.signWrote = true
		case d.lsign == 2:
		case d.bracket:
			np.out.WriteByte(map[bool]byte{true: ' ', false: '<'}[np.sign == '+'])
			np.signWrote = true
		case np.sign == '+':
			if !d.fill {
				np.out.WriteByte(' ')
			}
			np.signWrote = true
		default:
			np.out.WriteByte('-')
			np.signWrote = true
		}
	}
	switch {
	case np.numCurr < np.outPreSpaces && (d.zeroStart > np.numCurr || !d.zero):
		if !d.fill {
			np.out.WriteByte(' ')
		}
	case d.zero && np.numCurr < np.outPreSpaces && d.zeroStart <= np.numCurr:
		np.out.WriteByte('0')
		np.numIn = true
	default:
		np.digit(id, lastIsDot)
	}
	end := np.numCount + b2i(np.outPreSpaces > 0) + b2i(d.decimal)
	if np.lastRelevant >= 0 && np.lastRelevant == np.pos {
		end = np.numCurr
	}
	if np.numCurr+1 == end {
		switch {
		case np.signWrote && d.bracket:
			np.out.WriteByte(map[bool]byte{true: ' ', false: '>'}[np.sign == '+'])
		case d.lsign == 2:
			np.out.WriteRune(np.sign)
		}
	}
	np.numCurr++
}

// digit writes the number's next character: a digit or the decimal point.
func (np *numProc) digit(id string, lastIsDot bool) {
	d := &np.d
	if np.cur() == '.' {
		if np.lastRelevant < 0 || !lastIsDot || d.fill {
			np.out.WriteByte('.')
		}
	} else {
		switch {
		case np.lastRelevant >= 0 && np.pos > np.lastRelevant && id != "0":
		case np.predecSpace():
			if !d.fill {
				np.out.WriteByte(' ')
			} else if lastIsDot {
				np.out.WriteByte('0')
			}
		default:
			if c := np.cur(); c != 0 {
				np.out.WriteByte(c)
			}
			np.numIn = true
		}
	}
	if np.pos < len(np.number) {
		np.pos++
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lastRelevantDigit is the index of the last non-zero digit after the
// decimal point (or of the point itself), -1 without a point.
func lastRelevantDigit(num string) int {
	p := strings.IndexByte(num, '.')
	if p < 0 {
		return -1
	}
	res := p
	for i := p + 1; i < len(num); i++ {
		if num[i] != '0' {
			res = i
		}
	}
	return res
}

var romanParts = []struct {
	v int
	s string
}{{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"}, {50, "L"}, {40, "XL"},
	{10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"}}

// romanText is the RN pattern: the rounded value in Roman numerals,
// right-aligned in 15 positions (unpadded with FM).
func romanText(val decimal, d numDesc) string {
	n := 0
	r := val.rescale(0)
	if r.special == "" && r.u.IsInt64() {
		n = int(r.u.Int64())
	}
	if n < 1 || n > 3999 {
		return strings.Repeat("#", 15)
	}
	var b strings.Builder
	for _, p := range romanParts {
		for n >= p.v {
			b.WriteString(p.s)
			n -= p.v
		}
	}
	if d.fill {
		return b.String()
	}
	return fmt.Sprintf("%15s", b.String())
}

// sciText is the EEEE pattern: d.dd…e±XX, with a space for the sign of a
// positive number.
func sciText(val decimal, post int) string {
	f, _ := strconv.ParseFloat(val.String(), 64)
	s := strconv.FormatFloat(f, 'e', post, 64)
	if !strings.HasPrefix(s, "-") {
		s = " " + s
	}
	return s
}
