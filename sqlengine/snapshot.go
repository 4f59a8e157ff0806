package sqlengine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chr2sql/chr2sql/sqlengine/catalog"
)

// Snapshot writes a consistent copy of the state database to path (VACUUM
// INTO, which reads one snapshot of the database) and returns the applied
// index and term the copy contains, read from the copy itself so the pair
// can never disagree with the data.
func (e *Engine) Snapshot(ctx context.Context, path string) (index, term uint64, err error) {
	_ = os.Remove(path)
	// VACUUM INTO only reads the source, but SQLite refuses it on a
	// query_only connection: use a connection of its own.
	c, err := openSQLite(filepath.Join(e.cfg.Dir, StateFile), false)
	if err != nil {
		return 0, 0, err
	}
	err = c.execScript(ctx, "VACUUM INTO "+quoteLiteral(path))
	c.close()
	if err != nil {
		return 0, 0, fmt.Errorf("sqlengine: snapshot: %w", err)
	}
	index, term, err = snapshotPosition(path)
	if err != nil {
		return 0, 0, err
	}
	if err := syncFile(path); err != nil {
		return 0, 0, err
	}
	return index, term, nil
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// snapshotPosition reads the applied index and term stored in a snapshot.
func snapshotPosition(path string) (uint64, uint64, error) {
	c, err := openSQLite(path, true)
	if err != nil {
		return 0, 0, err
	}
	defer c.close()
	var index, term uint64
	err = c.query(context.Background(), `SELECT key, value FROM _chr2_meta WHERE key IN ('applied_index', 'applied_term')`,
		nil, func(r []driver.Value) error {
			v, _ := r[1].(int64)
			if r[0].(string) == catalog.MetaAppliedIndex {
				index = uint64(v)
			} else {
				term = uint64(v)
			}
			return nil
		})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlengine: read snapshot %s: %w", path, err)
	}
	return index, term, nil
}

// SnapshotIndex returns the applied index recorded in a snapshot file.
func SnapshotIndex(path string) (uint64, error) {
	idx, _, err := snapshotPosition(path)
	return idx, err
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlengine: fsync %s: %w", path, err)
	}
	return nil
}

// Restore replaces the state with the snapshot at path (which must record
// an applied index of at least the current one). Connections are closed,
// the file is moved into place and everything is reopened. The caller
// guarantees no entry is applied concurrently (the replication applier
// calls it in log order).
func (e *Engine) Restore(path string) error {
	w := e.writer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.epoch != nil {
		// The snapshot may or may not contain the epoch's entries.
		w.abortEpochLocked(ErrLostProposal, false)
	}
	readers := make([]*sqliteConn, 0, e.cfg.ReadConns)
	for i := 0; i < e.cfg.ReadConns; i++ {
		readers = append(readers, <-e.readers)
	}
	for _, rc := range readers {
		rc.close()
	}
	w.conn.close()
	dbPath := filepath.Join(e.cfg.Dir, StateFile)
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sqlengine: restore: %w", err)
		}
	}
	if err := os.Rename(path, dbPath); err != nil {
		return fmt.Errorf("sqlengine: restore: %w", err)
	}
	if err := syncDir(e.cfg.Dir); err != nil {
		return err
	}
	return e.reopenLocked(dbPath)
}

func (e *Engine) reopenLocked(dbPath string) error {
	w := e.writer
	wc, err := openSQLite(dbPath, false)
	if err != nil {
		return err
	}
	if err := e.initState(wc, false); err != nil {
		return err
	}
	w.conn = wc
	rows, err := wc.QueryAll(`SELECT key, value FROM _chr2_meta WHERE key IN ('applied_index', 'applied_term', 'block_time')`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		v, _ := r[1].(int64)
		switch r[0].(string) {
		case catalog.MetaAppliedIndex:
			w.applied = uint64(v)
			w.advanceVisibleLocked(uint64(v))
			w.visible = uint64(v)
		case catalog.MetaAppliedTerm:
			w.appliedTrm = uint64(v)
		case catalog.MetaBlockTime:
			w.blockTime, w.appliedBT = v, v
		}
	}
	for i := 0; i < e.cfg.ReadConns; i++ {
		rc, err := openSQLite(dbPath, true)
		if err != nil {
			return err
		}
		e.readers <- rc
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlengine: fsync %s: %w", dir, err)
	}
	return nil
}
