package clienttest

import (
	"context"
	"testing"
	"time"
)

// TestAdvisoryLocksAcrossNodes takes advisory locks through a follower and
// the leader of a three-node cluster: the lock table lives on the leader,
// so a follower's session holds its locks through its forwarding
// connection, a waiter on another node is woken when the holder's session
// ends, and try-locks see the holder from every node.
func TestAdvisoryLocksAcrossNodes(t *testing.T) {
	c := startCluster(t, 3)
	leader, follower := c.leader(), c.follower()
	holder := connect(t, follower)
	onLeader := connect(t, leader)
	waiter := connect(t, follower)

	var got bool
	if _, err := holder.Exec(ctx(t), "SELECT pg_advisory_lock(42)"); err != nil {
		t.Fatal(err)
	}
	if err := onLeader.QueryRow(ctx(t), "SELECT pg_try_advisory_lock(42)").Scan(&got); err != nil || got {
		t.Fatalf("try-lock on the leader while a follower session holds it: %v, %v", got, err)
	}
	acquired := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx(t), "SELECT pg_advisory_lock(42)")
		acquired <- err
	}()
	select {
	case err := <-acquired:
		t.Fatalf("second session got the lock while it was held (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Ending the holder's session (not an unlock) releases its locks.
	if err := holder.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-acquired:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter not woken after the holder's session ended")
	}
	if err := onLeader.QueryRow(ctx(t), "SELECT pg_try_advisory_lock(42)").Scan(&got); err != nil || got {
		t.Fatalf("try-lock on the leader while the waiter holds it: %v, %v", got, err)
	}
	if err := waiter.QueryRow(ctx(t), "SELECT pg_advisory_unlock(42)").Scan(&got); err != nil || !got {
		t.Fatalf("unlock by the holder: %v, %v", got, err)
	}
	if err := onLeader.QueryRow(ctx(t), "SELECT pg_try_advisory_lock(42)").Scan(&got); err != nil || !got {
		t.Fatalf("try-lock on the leader after the unlock: %v, %v", got, err)
	}
}
