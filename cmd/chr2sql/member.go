package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// memberCommand implements chr2sql member list|add|remove.
func memberCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "add" && args[0] != "remove") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("member "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http-addr", "127.0.0.1:8433", "HTTP address of any member")
	nodeID := fs.Uint64("node-id", 0, "the member to add or remove")
	raftAddr := fs.String("raft-addr", "", "the new member's raft address (add)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if err := applyEnv(fs); err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 2
	}
	client := http.Client{Timeout: 15 * time.Second}
	base := "http://" + *httpAddr + "/members"
	var req *http.Request
	var err error
	switch args[0] {
	case "list":
		req, err = http.NewRequest(http.MethodGet, base, nil)
	case "add":
		if *nodeID == 0 || *raftAddr == "" {
			fmt.Fprintln(stderr, "chr2sql: member add needs --node-id and --raft-addr")
			return 2
		}
		body, _ := json.Marshal(map[string]any{"node_id": *nodeID, "raft_addr": *raftAddr})
		req, err = http.NewRequest(http.MethodPost, base, bytes.NewReader(body))
	case "remove":
		if *nodeID == 0 {
			fmt.Fprintln(stderr, "chr2sql: member remove needs --node-id")
			return 2
		}
		req, err = http.NewRequest(http.MethodDelete, base+"/"+strconv.FormatUint(*nodeID, 10), nil)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 1
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "chr2sql: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "chr2sql: %s: %s", resp.Status, out)
		return 1
	}
	stdout.Write(out)
	return 0
}
