package sqlengine

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/sqlengine/translate"
)

// Read consistency settings (SET chr2.read_consistency).
const (
	ReadLinearizable = "linearizable"
	ReadLocal        = "local"
)

// setting describes one configuration parameter a session may SET/SHOW.
type setting struct {
	def      string
	report   bool                         // sent as ParameterStatus (GUC_REPORT)
	readOnly bool                         // SET is refused
	check    func(string) (string, error) // validates and canonicalises a value
}

func fixed(v string) func(string) (string, error) {
	return func(s string) (string, error) {
		if strings.EqualFold(strings.ReplaceAll(s, " ", ""), strings.ReplaceAll(v, " ", "")) {
			return v, nil
		}
		return "", pgerr.New(pgerr.InvalidParameterValue, "only %q is supported", v)
	}
}

func anyValue(s string) (string, error) { return s, nil }

func onOff(s string) (string, error) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return "on", nil
	case "off", "false", "no", "0":
		return "off", nil
	}
	return "", pgerr.New(pgerr.InvalidParameterValue, "parameter requires a Boolean value")
}

func durationMillis(s string) (string, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	units := []struct {
		suffix string
		ms     float64
	}{{"ms", 1}, {"min", 60000}, {"s", 1000}, {"h", 3600000}, {"d", 86400000}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.ms
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return "", pgerr.New(pgerr.InvalidParameterValue, "invalid value for a time parameter: %q", s)
	}
	return strconv.FormatInt(int64(f*mult), 10), nil
}

func timeZoneValue(s string) (string, error) {
	if strings.EqualFold(s, "local") || strings.EqualFold(s, "default") {
		return "UTC", nil
	}
	if _, err := pgval.LoadLocation(s); err != nil {
		return "", pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", s)
	}
	return s, nil
}

// isolationLevel accepts PostgreSQL's four levels. chr2sql runs every
// transaction serializably, which gives each level at least its
// guarantees; the level is reported as requested, as PostgreSQL reports
// READ UNCOMMITTED although it runs it as READ COMMITTED.
func isolationLevel(s string) (string, error) {
	v := strings.Join(strings.Fields(strings.ToLower(s)), " ")
	switch v {
	case "serializable", "repeatable read", "read committed", "read uncommitted":
		return v, nil
	case "default":
		return "read committed", nil
	}
	return "", pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"transaction_isolation\": %q", s)
}

func readConsistency(s string) (string, error) {
	switch strings.ToLower(s) {
	case ReadLinearizable, ReadLocal:
		return strings.ToLower(s), nil
	}
	return "", pgerr.New(pgerr.InvalidParameterValue,
		"invalid value for parameter \"chr2.read_consistency\": %q", s).WithHint("Use 'linearizable' or 'local'.")
}

// settings lists the parameters chr2sql knows, by lower-case name.
var settings = map[string]setting{
	"server_version":                      {def: "16.4", report: true, readOnly: true},
	"server_version_num":                  {def: "160004", readOnly: true},
	"server_encoding":                     {def: "UTF8", report: true, readOnly: true},
	"client_encoding":                     {def: "UTF8", report: true, check: fixed("UTF8")},
	"datestyle":                           {def: "ISO, MDY", report: true, check: fixed("ISO, MDY")},
	"intervalstyle":                       {def: "postgres", report: true, check: fixed("postgres")},
	"integer_datetimes":                   {def: "on", report: true, readOnly: true},
	"standard_conforming_strings":         {def: "on", report: true, check: fixed("on")},
	"timezone":                            {def: "UTC", report: true, check: timeZoneValue},
	"is_superuser":                        {def: "on", report: true, readOnly: true},
	"session_authorization":               {report: true, readOnly: true},
	"application_name":                    {def: "", report: true, check: anyValue},
	"default_transaction_read_only":       {def: "off", report: true, check: onOff},
	"in_hot_standby":                      {def: "off", report: true, readOnly: true},
	"search_path":                         {def: `"$user", public`, check: anyValue},
	"statement_timeout":                   {def: "0", check: durationMillis},
	"lock_timeout":                        {def: "0", check: durationMillis},
	"idle_in_transaction_session_timeout": {def: "0", check: durationMillis},
	"extra_float_digits":                  {def: "1", check: anyValue},
	"client_min_messages":                 {def: "notice", check: anyValue},
	"bytea_output":                        {def: "hex", check: fixed("hex")},
	"transaction_isolation":               {def: "read committed", check: isolationLevel},
	"default_transaction_isolation":       {def: "read committed", check: isolationLevel},
	"transaction_read_only":               {def: "off", check: onOff},
	"max_identifier_length":               {def: "63", readOnly: true},
	"max_connections":                     {def: "100", readOnly: true},
	"synchronous_commit":                  {def: "on", check: anyValue},
	"row_security":                        {def: "on", check: anyValue},
	"lc_messages":                         {def: "C", check: anyValue},
	"lc_monetary":                         {def: "C", check: anyValue},
	"lc_numeric":                          {def: "C", check: anyValue},
	"lc_time":                             {def: "C", check: anyValue},
	"chr2.read_consistency":               {def: ReadLinearizable, check: readConsistency},
}

// reportedNames fixes the order ParameterStatus is sent in.
var reportedNames = []string{"application_name", "client_encoding", "DateStyle", "default_transaction_read_only",
	"in_hot_standby", "integer_datetimes", "IntervalStyle", "is_superuser", "server_encoding", "server_version",
	"session_authorization", "standard_conforming_strings", "TimeZone"}

// sessionSettings holds one session's values.
type sessionSettings struct {
	values map[string]string
	loc    *time.Location
}

func newSessionSettings(info pgwire.SessionInfo, serverVersion string) *sessionSettings {
	ss := &sessionSettings{values: map[string]string{}, loc: time.UTC}
	for name, s := range settings {
		ss.values[name] = s.def
	}
	ss.values["session_authorization"] = info.User
	if serverVersion != "" {
		ss.values["server_version"] = serverVersion
	}
	for k, v := range info.Params {
		name := strings.ToLower(k)
		if s, ok := settings[name]; ok && !s.readOnly && s.check != nil {
			if canon, err := s.check(v); err == nil {
				ss.values[name] = canon
			}
		}
	}
	if tz := ss.values["timezone"]; tz != "" {
		if loc, err := pgval.LoadLocation(tz); err == nil {
			ss.loc = loc
		}
	}
	return ss
}

// set applies SET/RESET.
func (ss *sessionSettings) set(op *translate.SetOp) error {
	if op.All {
		for name, s := range settings {
			if !s.readOnly {
				ss.values[name] = s.def
			}
		}
		ss.loc = time.UTC
		return nil
	}
	name := op.Name
	if name == "time zone" {
		name = "timezone"
	}
	s, ok := settings[name]
	if !ok {
		if strings.Contains(name, ".") {
			ss.values[name] = op.Value // custom placeholder variables are free-form
			return nil
		}
		return pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", op.Name)
	}
	if s.readOnly {
		return pgerr.New(pgerr.CantChangeRuntimeParam, "parameter %q cannot be changed", op.Name)
	}
	value := s.def
	if !op.Reset {
		canon, err := s.check(op.Value)
		if err != nil {
			return err
		}
		value = canon
	}
	ss.values[name] = value
	if name == "timezone" {
		loc, err := pgval.LoadLocation(value)
		if err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", value)
		}
		ss.loc = loc
	}
	return nil
}

func (ss *sessionSettings) get(name string) (string, error) {
	name = strings.ToLower(name)
	if name == "time zone" {
		name = "timezone"
	}
	if name == "transaction isolation level" {
		name = "transaction_isolation"
	}
	v, ok := ss.values[name]
	if !ok {
		return "", pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	return displayValue(name, v), nil
}

// displayValue is how SHOW prints a setting: time settings, kept in
// milliseconds, in the largest unit that divides them ("5s", "90s", "2min").
func displayValue(name, v string) string {
	if settings[name].check == nil || !durationSetting[name] {
		return v
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms == 0 {
		return v
	}
	for _, u := range []struct {
		unit string
		ms   int64
	}{{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}} {
		if ms%u.ms == 0 {
			return strconv.FormatInt(ms/u.ms, 10) + u.unit
		}
	}
	return v + "ms"
}

// durationSetting names the settings durationMillis canonicalises.
var durationSetting = map[string]bool{"statement_timeout": true, "lock_timeout": true,
	"idle_in_transaction_session_timeout": true}

func (ss *sessionSettings) reported() []pgwire.Param {
	out := make([]pgwire.Param, 0, len(reportedNames))
	for _, n := range reportedNames {
		out = append(out, pgwire.Param{Name: n, Value: ss.values[strings.ToLower(n)]})
	}
	return out
}

func (ss *sessionSettings) searchPath() []string {
	out := []string{} // empty (search_path = ''), not nil: nothing is searched
	for _, p := range strings.Split(ss.values["search_path"], ",") {
		p = strings.TrimSpace(p)
		if p == "" || p == `"$user"` || p == "$user" {
			continue
		}
		out = append(out, strings.Trim(p, `"`))
	}
	return out
}

// list returns every setting and its value, sorted by name (pg_settings,
// SHOW ALL, current_setting).
func (ss *sessionSettings) list() [][2]string {
	out := make([][2]string, 0, len(ss.values))
	for name, v := range ss.values {
		out = append(out, [2]string{name, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func (ss *sessionSettings) millis(name string) time.Duration {
	n, _ := strconv.ParseInt(ss.values[name], 10, 64)
	return time.Duration(n) * time.Millisecond
}
