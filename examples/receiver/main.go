// Command receiver is an example webhook receiver for chr2sql's outbox: it
// verifies Standard Webhooks signatures, dedupes by webhook-id, refuses
// deliveries from deposed leaders (409 + Chr2-Fenced: true) and appends what
// it accepted to a JSON-lines ledger. See examples/README.md.
//
//	go run ./examples/receiver -addr 127.0.0.1:9000 -ledger received.jsonl
//	WEBHOOK_SECRET=whsec_... must hold the sink's secret (or pass -secret).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chr2sql/chr2sql/examples/receiver/receiver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	// The environment default is read after parsing so -help never prints it.
	secret := flag.String("secret", "", "sink secret whsec_<base64> (default $WEBHOOK_SECRET)")
	ledger := flag.String("ledger", "received.jsonl", "JSON-lines ledger of accepted deliveries (replayed at start)")
	syncLedger := flag.Bool("fsync", false, "fsync the ledger after every delivery")
	tolerance := flag.Duration("tolerance", 5*time.Minute, "allowed webhook-timestamp skew")
	unsigned := flag.Bool("unsigned", false, "accept unsigned deliveries (testing only)")
	flag.Parse()
	if *secret == "" {
		*secret = os.Getenv("WEBHOOK_SECRET")
	}

	h, err := receiver.New(receiver.Config{
		Secret: *secret, AllowUnsigned: *unsigned, Tolerance: *tolerance,
		LedgerPath: *ledger, SyncLedger: *syncLedger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "receiver:", err)
		os.Exit(2)
	}
	defer h.Close()
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("receiver listening on http://%s (ledger %s, %d deliveries replayed)", *addr, *ledger, len(h.Received()))
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
