package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chr2sql/chr2sql/pgerr"
	"github.com/chr2sql/chr2sql/pgval"
	"github.com/chr2sql/chr2sql/pgwire"
	"github.com/chr2sql/chr2sql/replication"
	"github.com/chr2sql/chr2sql/sqlengine"
)

// leaderForwarder opens PostgreSQL connections to the current leader, whose
// address it learns from the leader's transport handshake.
type leaderForwarder struct {
	node     *replication.Node
	trans    replication.Transport
	waitTime time.Duration
}

var _ sqlengine.Forwarder = (*leaderForwarder)(nil)

func (f *leaderForwarder) Open(ctx context.Context, info sqlengine.ForwardInfo) (sqlengine.Upstream, error) {
	addr, err := f.leaderAddr(ctx)
	if err != nil {
		return nil, err
	}
	dsn := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", url.PathEscape(info.User), addr, url.PathEscape(info.Database))
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = "chr2sql-forward"
	for name, v := range info.Settings {
		if v != "" && name != "application_name" {
			cfg.RuntimeParams[name] = v
		}
	}
	up := &upstream{}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		up.mu.Lock()
		fn := up.notice
		up.mu.Unlock()
		if fn != nil {
			fn(fromPgError((*pgconn.PgError)(n)))
		}
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, pgerr.Wrap(err, pgerr.CannotConnectNow, "cannot reach the leader at %s", addr).
			WithHint("Writes on a follower are sent to the leader; retry once it is reachable.")
	}
	up.conn = conn
	return up, nil
}

// leaderAddr waits (bounded) until a leader is known and its PostgreSQL
// address has been advertised.
func (f *leaderForwarder) leaderAddr(ctx context.Context) (string, error) {
	deadline := time.Now().Add(f.waitTime)
	for {
		st := f.node.Status()
		if st.LeaderID != 0 && st.LeaderID == st.NodeID {
			return "", sqlengine.ErrLeaderIsLocal
		}
		if st.LeaderID != 0 && st.LeaderID != st.NodeID {
			if addr := f.trans.PeerMeta(st.LeaderID)["pg-addr"]; addr != "" {
				return addr, nil
			}
		}
		if time.Now().After(deadline) {
			return "", pgerr.New(pgerr.CannotConnectNow, "no leader is reachable from this node").
				WithHint("A majority of nodes must be reachable for writes and linearizable reads.")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// upstream is one forwarded session's connection to the leader.
type upstream struct {
	conn   *pgconn.PgConn
	mu     sync.Mutex
	notice func(*pgerr.Error)
}

func (u *upstream) Exec(ctx context.Context, sql string, paramOIDs []uint32, params []any,
	emit func([]any) error, notice func(*pgerr.Error)) (string, error) {
	u.mu.Lock()
	u.notice = notice
	u.mu.Unlock()
	values := make([][]byte, len(params))
	for i, v := range params {
		if v == nil {
			continue
		}
		oid := pgval.TextOID
		if i < len(paramOIDs) {
			oid = paramOIDs[i]
		}
		s, err := pgval.Format(oid, v, time.UTC)
		if err != nil {
			return "", err
		}
		values[i] = []byte(s)
	}
	rr := u.conn.ExecParams(ctx, sql, values, paramOIDs, nil, nil)
	fields := rr.FieldDescriptions()
	for rr.NextRow() {
		raw := rr.Values()
		row := make([]any, len(raw))
		for i, b := range raw {
			if b == nil {
				continue
			}
			v, err := pgval.Parse(fields[i].DataTypeOID, string(b), time.UTC)
			if err != nil {
				rr.Close()
				return "", err
			}
			row[i] = v
		}
		if err := emit(row); err != nil {
			rr.Close()
			return "", err
		}
	}
	tag, err := rr.Close()
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return "", fromPgError(pe)
		}
		return "", err
	}
	return tag.String(), nil
}

func (u *upstream) Describe(ctx context.Context, sql string, paramOIDs []uint32) ([]uint32, []pgwire.Column, error) {
	sd, err := u.conn.Prepare(ctx, "", sql, paramOIDs)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return nil, nil, fromPgError(pe)
		}
		return nil, nil, err
	}
	cols := make([]pgwire.Column, len(sd.Fields))
	for i, f := range sd.Fields {
		cols[i] = pgwire.Column{Name: f.Name, TableOID: f.TableOID, AttrNum: int16(f.TableAttributeNumber),
			TypeOID: f.DataTypeOID, TypeSize: f.DataTypeSize, TypeModifier: f.TypeModifier}
	}
	return sd.ParamOIDs, cols, nil
}

func (u *upstream) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	u.conn.Close(ctx)
}

// fromPgError carries the leader's error to the client unchanged.
func fromPgError(pe *pgconn.PgError) *pgerr.Error {
	sev := pe.Severity
	if sev == "FATAL" || sev == "PANIC" {
		sev = pgerr.SeverityError // the client's own connection stays up
	}
	return &pgerr.Error{Severity: strings.ToUpper(sev), Code: pgerr.Code(pe.Code), Message: pe.Message, Detail: pe.Detail,
		Hint: pe.Hint, Where: pe.Where, Position: pe.Position, SchemaName: pe.SchemaName, TableName: pe.TableName,
		ColumnName: pe.ColumnName, DataTypeName: pe.DataTypeName, ConstraintName: pe.ConstraintName}
}
