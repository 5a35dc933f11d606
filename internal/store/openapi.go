package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hypergate/hypergate/internal/catalog"
)

const openAPIMetaColumns = "service, media_type, openapi, title, version, source_url, sha256, updated_by, updated_us, LENGTH(document)"

// PutOpenAPI stores a service's OpenAPI document, replacing the one it
// had. Service, Document and MediaType are required; UpdatedAt defaults
// to now. It returns the document as stored.
func (db *DB) PutOpenAPI(ctx context.Context, d catalog.OpenAPIDocument) (catalog.OpenAPIDocument, error) {
	if d.Service == "" || len(d.Document) == 0 || d.MediaType == "" {
		return catalog.OpenAPIDocument{}, fmt.Errorf("openapi document needs a service, a media type and a body: %w", ErrInvalid)
	}
	d.UpdatedAt = fromMicros(micros(nowOr(d.UpdatedAt)))
	d.Size = len(d.Document)
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO service_openapi
			(service, document, media_type, openapi, title, version, source_url, sha256, updated_by, updated_us)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (service) DO UPDATE SET document = excluded.document, media_type = excluded.media_type,
				openapi = excluded.openapi, title = excluded.title, version = excluded.version,
				source_url = excluded.source_url, sha256 = excluded.sha256, updated_by = excluded.updated_by,
				updated_us = excluded.updated_us`),
			d.Service, d.Document, d.MediaType, d.OpenAPI, d.Title, d.Version, d.SourceURL, d.SHA256, d.UpdatedBy, micros(d.UpdatedAt))
		return err
	})
	if err != nil {
		return catalog.OpenAPIDocument{}, fmt.Errorf("storing the openapi document of %s: %w", d.Service, err)
	}
	return d, nil
}

// GetOpenAPI returns a service's OpenAPI document, body included;
// ErrNotFound when it has none.
func (db *DB) GetOpenAPI(ctx context.Context, service string) (catalog.OpenAPIDocument, error) {
	var (
		d       catalog.OpenAPIDocument
		updated int64
	)
	err := db.sql.QueryRowContext(ctx, db.Rebind(`SELECT service, document, media_type, openapi, title, version, source_url, sha256, updated_by, updated_us
		FROM service_openapi WHERE service = ?`), service).
		Scan(&d.Service, &d.Document, &d.MediaType, &d.OpenAPI, &d.Title, &d.Version, &d.SourceURL, &d.SHA256, &d.UpdatedBy, &updated)
	if err != nil {
		return catalog.OpenAPIDocument{}, errNoRows(err, fmt.Sprintf("openapi document of %q", service))
	}
	d.UpdatedAt, d.Size = fromMicros(updated), len(d.Document)
	return d, nil
}

// ListOpenAPI returns the metadata of every stored OpenAPI document,
// without the bodies, by service name.
func (db *DB) ListOpenAPI(ctx context.Context) ([]catalog.OpenAPIDocument, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+openAPIMetaColumns+" FROM service_openapi ORDER BY service")
	if err != nil {
		return nil, fmt.Errorf("listing openapi documents: %w", err)
	}
	defer rows.Close()
	out := []catalog.OpenAPIDocument{}
	for rows.Next() {
		var (
			d       catalog.OpenAPIDocument
			updated int64
		)
		if err := rows.Scan(&d.Service, &d.MediaType, &d.OpenAPI, &d.Title, &d.Version, &d.SourceURL, &d.SHA256, &d.UpdatedBy, &updated, &d.Size); err != nil {
			return nil, fmt.Errorf("listing openapi documents: %w", err)
		}
		d.UpdatedAt = fromMicros(updated)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing openapi documents: %w", err)
	}
	return out, nil
}
