// Command compare runs the SQL corpus (corpus/sql) on PostgreSQL 15 and on
// chr2sql and writes the comparison report (docs/compat.md):
//
//	go run ./corpus/cmd/compare -report docs/compat.md
//
// By default it starts a throw-away PostgreSQL from /usr/lib/postgresql/15/bin
// (Debian's postgresql-15) and builds chr2sql from the working tree.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chr2sql/chr2sql/corpus"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run() error {
	sqlDir := flag.String("sql", "corpus/sql", "directory of corpus *.sql files")
	pgURL := flag.String("pg-url", "", "existing PostgreSQL server (admin URL); empty: start one from -pg-bin")
	pgBin := flag.String("pg-bin", corpus.DefaultPGBin, "PostgreSQL server binaries (initdb, pg_ctl)")
	binary := flag.String("chr2sql", "", "chr2sql binary; empty: go build ./cmd/chr2sql")
	report := flag.String("report", "", "write the markdown report here (empty: stdout)")
	commit := flag.String("commit", "", "commit the chr2sql binary was built from (empty: git describe of this tree)")
	flag.Parse()
	ctx := context.Background()

	files, err := corpus.Load(*sqlDir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "compare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if *binary == "" {
		*binary = filepath.Join(tmp, "chr2sql")
		if out, err := exec.Command("go", "build", "-o", *binary, "./cmd/chr2sql").CombinedOutput(); err != nil {
			return fmt.Errorf("build chr2sql: %v\n%s", err, out)
		}
	}
	pg := corpus.ExistingPostgres(*pgURL)
	if *pgURL == "" {
		if pg, err = corpus.StartPostgres(*pgBin); err != nil {
			return err
		}
		defer pg.Stop()
	}
	chr := &corpus.Chr2{Binary: *binary}
	start := time.Now()
	outcomes, err := corpus.Run(ctx, files, pg, chr)
	if err != nil {
		return err
	}
	_, total := corpus.Summarize(outcomes)
	fmt.Fprintf(os.Stderr, "compare: %d of %d statements match (%.1f%%) in %v\n", total.Matched, total.Total, total.Share(),
		time.Since(start).Round(time.Second))

	if *commit == "" {
		out, _ := exec.Command("git", "describe", "--always", "--dirty").Output()
		*commit = strings.TrimSpace(string(out))
	}
	var shown []string // the command line without -commit, which only labels the report
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "commit" {
			shown = append(shown, "-"+f.Name+" "+f.Value.String())
		}
	})
	info := corpus.ReportInfo{
		Command:     strings.TrimSpace("go run ./corpus/cmd/compare " + strings.Join(shown, " ")),
		Date:        time.Now().UTC().Format("2006-01-02"),
		PGVersion:   pg.Version(ctx),
		Chr2Version: chr.Version(ctx),
		Commit:      *commit,
	}
	out := os.Stdout
	if *report != "" {
		if out, err = os.Create(*report); err != nil {
			return err
		}
		defer out.Close()
	}
	return corpus.WriteMarkdown(out, info, outcomes)
}
