ALTER TABLE users ADD COLUMN email text;
UPDATE users SET email = name || '@example.com';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
