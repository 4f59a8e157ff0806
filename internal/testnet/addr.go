package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Port range used when the ephemeral range cannot be read.
const (
	lowestPort       = 20000
	defaultEphemeral = 32768
	attempts         = 200
)

// LoopbackAddr returns "127.0.0.1:port" for a port that was free a moment
// ago and lies below the ephemeral range.
func LoopbackAddr() (string, error) {
	high := ephemeralLow()
	for range attempts {
		port := lowestPort + rand.IntN(high-lowestPort)
		if !claim(port) {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return "", err
		}
		return addr, nil
	}
	return "", fmt.Errorf("testnet: no free port in [%d, %d) after %d attempts", lowestPort, high, attempts)
}

// ephemeralLow is the first port the kernel hands to outgoing connections.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemeral
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return defaultEphemeral
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low <= lowestPort+1000 {
		return defaultEphemeral
	}
	return low
}

var (
	claimMu sync.Mutex
	claimed = map[int]*os.File{}
)

// claim reserves port for the life of this process, against this process
// (a map) and against other test processes (an exclusive flock on a file
// per port, released by the kernel when the process exits): go test runs
// packages in parallel, and a node restarted on its port must not find it
// handed to another package's node meanwhile.
func claim(port int) bool {
	claimMu.Lock()
	defer claimMu.Unlock()
	if claimed[port] != nil {
		return false
	}
	dir := filepath.Join(os.TempDir(), "chr2sql-testports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true // no lock directory: fall back to the listen probe alone
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	claimed[port] = f
	return true
}
