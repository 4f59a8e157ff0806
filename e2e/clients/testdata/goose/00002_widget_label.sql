-- +goose Up
-- +goose StatementBegin
ALTER TABLE widgets ADD COLUMN label text NOT NULL DEFAULT '';
-- +goose StatementEnd
UPDATE widgets SET label = CASE sku WHEN 'w-1' THEN 'first' ELSE 'second; widget' END;

-- +goose Down
ALTER TABLE widgets DROP COLUMN label;
