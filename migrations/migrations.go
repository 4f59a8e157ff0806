package migrations

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Migration is one versioned schema change.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// All returns the embedded migrations in version order.
func All() ([]Migration, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("migrations: bad file name %q", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migrations: bad version in %q", name)
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), Statements: splitSQL(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// splitSQL splits a migration file at semicolons that end a line; the
// files are ours and keep one statement per semicolon-terminated block.
func splitSQL(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		if i := strings.Index(line, "--"); i >= 0 && !strings.Contains(line[:i], "'") {
			line = line[:i]
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Executor is what Apply needs from the engine.
type Executor interface {
	// Applied returns the highest migration version applied (0 for none).
	Applied(ctx context.Context) (int, error)
	// Run executes stmts as one transaction in one log entry.
	Run(ctx context.Context, stmts []string) error
}

// Apply runs every migration newer than what the executor reports.
func Apply(ctx context.Context, x Executor) (int, error) {
	all, err := All()
	if err != nil {
		return 0, err
	}
	cur, err := x.Applied(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range all {
		if m.Version <= cur {
			continue
		}
		stmts := append(append([]string{}, m.Statements...),
			fmt.Sprintf("INSERT INTO chr2.migrations (version, name) VALUES (%d, '%s')", m.Version, m.Name))
		if err := x.Run(ctx, stmts); err != nil {
			return cur, fmt.Errorf("migrations: %04d_%s: %w", m.Version, m.Name, err)
		}
		cur = m.Version
	}
	return cur, nil
}
