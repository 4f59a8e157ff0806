package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
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
