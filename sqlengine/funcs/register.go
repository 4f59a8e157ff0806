package funcs

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/chr2sql/chr2sql/pgerr"
)

type scalarFn = func(ctx *sqlite.FunctionContext, args []driver.Value) (driver.Value, error)

// Register installs every chr2_* function and the chr2_numeric,
// chr2_interval and chr2_jsonb collations (collations.go) on d, binding the context functions to env. Each SQLite connection gets its
// own Driver and Env, so context functions see only their connection's
// statement.
func Register(d *sqlite.Driver, env *Env) error {
	pure := pureFunctions()
	for name, f := range catalogFunctions() {
		pure[name] = f
	}
	for name, f := range arrayFunctions() {
		pure[name] = f
	}
	for name, f := range arrayMDFunctions() {
		pure[name] = f
	}
	for name, f := range numericFunctions() {
		pure[name] = f
	}
	for name, f := range jsonFunctions() {
		pure[name] = f
	}
	for name, f := range stringFunctions() {
		pure[name] = f
	}
	for name, f := range jsonOpFunctions() {
		pure[name] = f
	}
	for name, f := range builtinFunctions() {
		pure[name] = f
	}
	for name, f := range pure {
		if err := d.RegisterFunction(name, &sqlite.FunctionImpl{NArgs: f.nargs, Deterministic: true, Scalar: f.fn}); err != nil {
			return fmt.Errorf("funcs: register %s: %w", name, err)
		}
	}
	for name, f := range contextFunctions(env) {
		if err := d.RegisterFunction(name, &sqlite.FunctionImpl{NArgs: f.nargs, Scalar: f.fn}); err != nil {
			return fmt.Errorf("funcs: register %s: %w", name, err)
		}
	}
	if err := d.RegisterFunction("chr2_numeric_sum", &sqlite.FunctionImpl{NArgs: 1, Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &numericSum{}, nil }}); err != nil {
		return fmt.Errorf("funcs: register chr2_numeric_sum: %w", err)
	}
	if err := d.RegisterFunction("chr2_numeric_avg", &sqlite.FunctionImpl{NArgs: 1, Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &numericSum{avg: true}, nil }}); err != nil {
		return fmt.Errorf("funcs: register chr2_numeric_avg: %w", err)
	}
	if err := d.RegisterFunction("chr2_array_agg", &sqlite.FunctionImpl{NArgs: 2, Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &arrayAgg{}, nil }}); err != nil {
		return fmt.Errorf("funcs: register chr2_array_agg: %w", err)
	}
	aggs := map[string]struct {
		n    int32
		make func() sqlite.AggregateFunction
	}{
		"chr2_json_agg":            {2, func() sqlite.AggregateFunction { return &jsonAgg{} }},
		"chr2_json_object_agg":     {3, func() sqlite.AggregateFunction { return &jsonObjectAgg{} }},
		"chr2_interval_sum":        {1, func() sqlite.AggregateFunction { return &intervalSum{} }},
		"chr2_string_agg_distinct": {2, func() sqlite.AggregateFunction { return &stringAggDistinct{} }},
		"chr2_interval_avg":        {1, func() sqlite.AggregateFunction { return &intervalSum{avg: true} }},
	}
	for name, a := range aggs {
		mk := a.make
		if err := d.RegisterFunction(name, &sqlite.FunctionImpl{NArgs: a.n, Deterministic: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return mk(), nil }}); err != nil {
			return fmt.Errorf("funcs: register %s: %w", name, err)
		}
	}
	if err := registerBuiltinAggregates(d); err != nil {
		return err
	}
	for name, cmp := range map[string]func(a, b string) int{"chr2_interval": compareIntervalText,
		"chr2_jsonb": compareJSONBText, "chr2_numeric": compareNumericText,
		"chr2_array_num": compareArrayNum, "chr2_array_text": compareArrayText} {
		if err := d.RegisterCollationUtf8(name, cmp); err != nil {
			return fmt.Errorf("funcs: register collation %s: %w", name, err)
		}
	}
	return nil
}

type fnDef struct {
	nargs int32
	fn    scalarFn
}

func contextFunctions(env *Env) map[string]fnDef {
	return map[string]fnDef{
		"chr2_now": {0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) { return env.now(), nil }},
		"chr2_random": {0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return env.random().Float64(), nil
		}},
		"chr2_setseed":   {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return env.setseed(a[0]) }},
		"chr2_uuid":      {0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) { return env.uuid(), nil }},
		"chr2_effect_id": {0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) { return env.effectID(), nil }},
		"chr2_backend_pid": {0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return env.BackendPID, nil
		}},
		"chr2_sleep": {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return sleep(env.Ctx, a[0])
		}},
		"chr2_nextval": {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return env.nextval(uint32(asInt(a[0])))
		}},
		"chr2_currval": {3, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return env.currval(uint32(asInt(a[0])), a[1], fmt.Sprint(a[2]))
		}},
		"chr2_setval": {3, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return env.setval(uint32(asInt(a[0])), asInt(a[1]), asInt(a[2]) != 0)
		}},
		"chr2_lastval": {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return env.lastvalue(a[0])
		}},
	}
}

func asInt(v driver.Value) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case string:
		var n int64
		fmt.Sscan(x, &n)
		return n
	}
	return 0
}

// compareNumericText orders canonical decimal strings numerically; it is the
// collation of numeric columns.
func compareNumericText(a, b string) int {
	var x, y big.Rat
	_, okA := x.SetString(a)
	_, okB := y.SetString(b)
	switch {
	case okA && okB:
		return x.Cmp(&y)
	case okA:
		return -1 // numbers sort before NaN and garbage
	case okB:
		return 1
	}
	return strings.Compare(a, b)
}

// sleep is pg_sleep: it waits on the statement's context.
func sleep(ctx context.Context, secs driver.Value) (driver.Value, error) {
	if secs == nil {
		return "", nil
	}
	d := time.Duration(asFloat(secs) * float64(time.Second))
	if d <= 0 {
		return "", nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return "", nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, Error(pgerr.QueryCanceled, "canceling statement due to statement timeout")
		}
		return nil, Error(pgerr.QueryCanceled, "canceling statement due to user request")
	}
}
