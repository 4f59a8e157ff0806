-- chr2's own schema: the replicated outbox. Applied through the log at
-- bootstrap by the first leader; every node executes it at the same index.
CREATE SCHEMA chr2;

CREATE TABLE chr2.migrations (
    version integer PRIMARY KEY,
    name    text NOT NULL
);

CREATE TABLE chr2.sinks (
    name          text PRIMARY KEY,
    url           text NOT NULL,
    secret        text,                           -- whsec_<base64 key>; never logged
    max_attempts  integer NOT NULL DEFAULT 8,
    retry_schedule text,                          -- e.g. '5s,5m,30m,2h'; NULL = default schedule
    timeout_ms    integer NOT NULL DEFAULT 10000,
    concurrency   integer NOT NULL DEFAULT 8,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chr2.effects (
    id              text PRIMARY KEY DEFAULT chr2.effect_id(),
    seq             bigserial NOT NULL UNIQUE,    -- commit order
    sink            text NOT NULL REFERENCES chr2.sinks(name),
    payload         jsonb NOT NULL,
    ordering_key    text,
    run_at          timestamptz,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'in_flight', 'delivered', 'retry', 'dead', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    fencing_token   bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    claimed_at      timestamptz,
    next_attempt_at timestamptz,
    delivered_at    timestamptz,
    -- Webhook bodies stay small (Standard Webhooks); a larger payload is
    -- refused at INSERT with 54000, never at delivery time.
    CONSTRAINT effects_payload_size CHECK (octet_length(payload::text) <= 262144)
);

CREATE INDEX effects_status_due ON chr2.effects (status, next_attempt_at);
CREATE INDEX effects_ordering ON chr2.effects (ordering_key, seq);
