-- Orders reference users; the seed uses a sub-select for the foreign key.
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total_cents integer NOT NULL CHECK (total_cents >= 0),
    note text
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
INSERT INTO orders (user_id, total_cents, note)
SELECT id, 100 * length(name), 'seed; with a semicolon' FROM users;
INSERT INTO orders (user_id, total_cents) VALUES ((SELECT id FROM users WHERE name = 'ada'), 1);
