package testnet

import (
	"net"
	"strconv"
	"testing"
)

func TestLoopbackAddrIsFreeAndBelowEphemeral(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		addr, err := LoopbackAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if port < lowestPort || port >= ephemeralLow() {
			t.Fatalf("port %d outside [%d, %d)", port, lowestPort, ephemeralLow())
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("returned address %s is not free: %v", addr, err)
		}
		_ = l.Close()
		seen[addr] = true
	}
	if len(seen) < 10 {
		t.Fatalf("ports are not spread: %v", seen)
	}
}
