package pgval

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestAgainstPostgres is opt-in: with CHR2_PG_DSN pointing at a real
// PostgreSQL it runs every case of testdata/parse_format.txt through the
// server's own input and output functions and compares. Cases the server
// rejects but the file expects to succeed are reported separately when the
// server predates PostgreSQL 16 (underscores and 0x/0o/0b integer input
// are new in 16).
func TestAgainstPostgres(t *testing.T) {
	dsn := os.Getenv("CHR2_PG_DSN")
	if dsn == "" {
		t.Skip("set CHR2_PG_DSN=postgres://... to compare with a real PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var serverNum int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&serverNum); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET extra_float_digits = 1; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = postgres; SET bytea_output = hex"); err != nil {
		t.Fatal(err)
	}
	for _, c := range loadTextCases(t) {
		if c.errCode == "0A000" {
			continue // deliberate departures: clock words (G4), multidimensional arrays
		}
		zone := c.zone
		if zone == "" {
			zone = "UTC"
		}
		if _, err := conn.Exec(ctx, "SELECT set_config('TimeZone', $1, false)", zone); err != nil {
			t.Fatal(err)
		}
		ti, _ := LookupName(c.typ)
		var got string
		err := conn.QueryRow(ctx, "SELECT format('%s', CAST(CAST($1 AS text) AS "+ti.SQLName+"))", c.input).Scan(&got)
		var pgErr *pgconn.PgError
		switch {
		case c.errCode != "":
			if !errors.As(err, &pgErr) || pgErr.Code != string(c.errCode) || pgErr.Message != c.errMatch {
				t.Errorf("line %d: %s %q: PostgreSQL gave %q, %v; file expects %s %q", c.line, c.typ, c.input, got, err, c.errCode, c.errMatch)
			}
		case err != nil && serverNum < 160000 && errors.As(err, &pgErr):
			t.Logf("line %d: %s %q: PostgreSQL %d rejects it (%s); newer syntax expected", c.line, c.typ, c.input, serverNum, pgErr.Message)
		case err != nil:
			t.Errorf("line %d: %s %q: PostgreSQL error %v; file expects %q", c.line, c.typ, c.input, err, c.output)
		case got != c.output:
			t.Errorf("line %d: %s %q: PostgreSQL prints %q; file expects %q", c.line, c.typ, c.input, got, c.output)
		}
	}
}
