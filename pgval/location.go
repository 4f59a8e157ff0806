package pgval

import (
	"errors"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone data must not depend on the host: output is replicated and compared
)

var errBadZoneName = errors.New("pgval: not a time zone name")

var locationCache sync.Map // string → *time.Location, successes only

// LoadLocation resolves an IANA time zone name ("UTC", "Europe/Paris") to a
// location, caching successes. "Local" and "" are refused: the host's zone
// must never leak into replicated results.
func LoadLocation(name string) (*time.Location, error) {
	if v, ok := locationCache.Load(name); ok {
		return v.(*time.Location), nil
	}
	if !plausibleZoneName(name) {
		return nil, errBadZoneName
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locationCache.Store(name, loc)
	return loc, nil
}

// plausibleZoneName keeps arbitrary input (fuzzers, attackers) away from
// the file system: zone names are short paths of letters, digits, '_', '+'
// and '-'.
func plausibleZoneName(name string) bool {
	if name == "" || len(name) > 64 || strings.EqualFold(name, "local") ||
		name[0] == '/' || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '/' || c == '_' || c == '+' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
