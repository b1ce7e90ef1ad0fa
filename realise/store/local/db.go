package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite" // pure Go SQLite, so nixl builds with CGO_ENABLED=0

	"github.com/nixl-project/nixl/nixhash"
)

// applicationID marks databases created by nixl ("nixl" in ASCII), so that a
// database written by anything else (such as Nix) is never modified.
const applicationID = 0x6e69786c

// schemaVersion is stored in PRAGMA user_version.
const schemaVersion = 1

// schema is Nix's schema (version 10, as in Nix 2.8), so that the database
// reads like Nix's to anyone who knows it. Paths are absolute, hashes are
// "sha256:<base16>" and content addresses are rendered as Nix does
// ("fixed:r:sha256:<nixbase32>", "text:sha256:<nixbase32>").
const schema = `
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null, -- "sha256:<base16>" of the NAR
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies "false"
    sigs             text, -- space-separated
    ca               text -- if not null, the path is content-addressed
);

create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);

create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);

-- A self-reference (N, N) would make deleting N violate the restrict rule.
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;

create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null, -- output name, usually "out"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);

create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
`

// openDBLocked is openDB under an exclusive lock on db/open.lock. SQLite
// reports "database is locked" at once, without waiting, when connections
// race to create a database and switch it to WAL mode; serialising the
// opening avoids that, and costs little since it is short.
func openDBLocked(path string) (*sql.DB, error) {
	lf, err := os.OpenFile(filepath.Join(filepath.Dir(path), "open.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer lf.Close() // releases the lock
	if _, err := flock(lf, unix.LOCK_EX, true); err != nil {
		return nil, err
	}
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	// Open one connection now, while the lock is held.
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openDB opens (creating if needed) the database at path. Each connection
// uses WAL journaling, waits up to a minute for other writers, enforces
// foreign keys, and starts write transactions with BEGIN IMMEDIATE so that
// two processes never deadlock upgrading read locks.
func openDB(path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(60000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetConnMaxIdleTime(time.Minute)
	if err := initSchema(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the store database '%s': %w", path, err)
	}
	return db, nil
}

func initSchema(db *sql.DB) error {
	// The usual case, an existing database of ours, needs no write lock.
	var appID, version int64
	if err := db.QueryRow("pragma application_id").Scan(&appID); err != nil {
		return err
	}
	if err := db.QueryRow("pragma user_version").Scan(&version); err != nil {
		return err
	}
	if appID == applicationID && version == schemaVersion {
		return nil
	}
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.QueryRow("pragma application_id").Scan(&appID); err != nil {
		return err
	}
	if err := tx.QueryRow("pragma user_version").Scan(&version); err != nil {
		return err
	}
	switch {
	case appID == applicationID:
		if version > schemaVersion {
			return fmt.Errorf("the database has schema version %d, newer than this nixl understands (%d)", version, schemaVersion)
		}
	case appID != 0:
		return errors.New("it was not created by nixl")
	default:
		var tables int
		if err := tx.QueryRow("select count(*) from sqlite_master").Scan(&tables); err != nil {
			return err
		}
		if tables > 0 || version != 0 {
			return errors.New("it was not created by nixl")
		}
		if _, err := tx.Exec(schema); err != nil {
			return err
		}
		if _, err := tx.Exec(fmt.Sprintf("pragma application_id = %d; pragma user_version = %d", applicationID, schemaVersion)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRow(query string, args ...any) *sql.Row
	Query(query string, args ...any) (*sql.Rows, error)
	Exec(query string, args ...any) (sql.Result, error)
}

// pathID returns the row id of a valid path, or 0.
func pathID(q querier, path string) (int64, error) {
	var id int64
	err := q.QueryRow("select id from ValidPaths where path = ?", path).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func queryStrings(q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// queryInfo reads one valid path's row and references, or returns nil.
func queryInfo(q querier, path string) (*PathInfo, error) {
	var (
		id                int64
		hash              string
		regTime           int64
		deriver, sigs, ca sql.NullString
		narSize, ultimate sql.NullInt64
	)
	err := q.QueryRow("select id, hash, registrationTime, deriver, narSize, ultimate, sigs, ca from ValidPaths where path = ?", path).
		Scan(&id, &hash, &regTime, &deriver, &narSize, &ultimate, &sigs, &ca)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h, err := nixhash.ParsePrefixed(hash)
	if err != nil {
		return nil, fmt.Errorf("invalid hash of '%s' in the database: %w", path, err)
	}
	info := &PathInfo{
		Path:             path,
		NarHash:          h,
		NarSize:          narSize.Int64,
		Deriver:          deriver.String,
		RegistrationTime: time.Unix(regTime, 0),
		Ultimate:         ultimate.Int64 != 0,
		CA:               ca.String,
	}
	if sigs.String != "" {
		info.Sigs = strings.Fields(sigs.String)
	}
	info.References, err = queryStrings(q, "select path from Refs join ValidPaths on reference = id where referrer = ? order by path", id)
	if err != nil {
		return nil, err
	}
	return info, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// insertPath adds the row of a path (not its references) unless it exists,
// and returns its id.
func insertPath(tx *sql.Tx, info *PathInfo) (int64, error) {
	if id, err := pathID(tx, info.Path); err != nil || id != 0 {
		return id, err
	}
	reg := info.RegistrationTime
	if reg.IsZero() {
		reg = time.Now()
	}
	var ultimate sql.NullInt64
	if info.Ultimate {
		ultimate = sql.NullInt64{Int64: 1, Valid: true}
	}
	res, err := tx.Exec("insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca) values (?, ?, ?, ?, ?, ?, ?, ?)",
		info.Path, "sha256:"+info.NarHash.Base16(), reg.Unix(), nullString(info.Deriver), info.NarSize, ultimate,
		nullString(strings.Join(info.Sigs, " ")), nullString(info.CA))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
