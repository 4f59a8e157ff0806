-- +goose Up
CREATE TABLE widgets (
    id integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    sku text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO widgets (sku) VALUES ('w-1'), ('w-2');

-- +goose Down
DROP TABLE widgets;
