package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hypergate/hypergate/internal/auth"
)

// A user's role is stored in one of two places: users.role when it is
// global (or bound to a consumer), team_members.role when it is held as a
// member of a team, in which case users.role is ''. Reads join the two so
// that auth.User always carries the role in force and its team.

const userSelect = `SELECT u.id, u.email, u.name, COALESCE(m.role, u.role), COALESCE(m.team, ''), u.consumer,
	u.password_hash, u.disabled, u.created_us, u.updated_us, u.last_login_us
	FROM users u LEFT JOIN team_members m ON m.user_id = u.id`

func scanUser(s interface{ Scan(...any) error }) (auth.User, error) {
	var (
		u                auth.User
		role             string
		created, updated int64
		lastLogin        sql.NullInt64
	)
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &role, &u.Team, &u.Consumer, &u.PasswordHash, &u.Disabled,
		&created, &updated, &lastLogin); err != nil {
		return auth.User{}, err
	}
	u.Role = auth.Role(role)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	if lastLogin.Valid {
		t := fromMicros(lastLogin.Int64)
		u.LastLoginAt = &t
	}
	return u, nil
}

// checkUser validates what the schema cannot.
func checkUser(u auth.User) error {
	if u.ID == "" || u.Email == "" || u.PasswordHash == "" {
		return fmt.Errorf("user needs an id, an email and a password hash: %w", ErrInvalid)
	}
	if err := auth.CheckBinding(u.Role, u.Team, u.Consumer); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if u.Team != "" && !u.Role.TeamRole() {
		return fmt.Errorf("%w: role %q cannot be held as a team member", ErrInvalid, u.Role)
	}
	return nil
}

// globalRole is what users.role stores for u.
func globalRole(u auth.User) string {
	if u.Team != "" {
		return ""
	}
	return string(u.Role)
}

// CreateUser stores a new user, and its team membership when u.Team is
// set. An ID or email already taken is ErrConflict. Times default to now.
func (db *DB) CreateUser(ctx context.Context, u auth.User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	now := time.Now()
	created := nowOr(u.CreatedAt)
	updated := u.UpdatedAt
	if updated.IsZero() {
		updated = created
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO users
			(id, email, name, role, consumer, password_hash, disabled, created_us, updated_us, last_login_us)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			u.ID, u.Email, u.Name, globalRole(u), u.Consumer, u.PasswordHash, u.Disabled,
			micros(created), micros(updated), nullMicros(u.LastLoginAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrConflict
		}
		if u.Team != "" {
			_, err = tx.ExecContext(ctx, db.Rebind("INSERT INTO team_members (user_id, team, role, created_us) VALUES (?, ?, ?, ?)"),
				u.ID, u.Team, string(u.Role), micros(now))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("creating user %q: %w", u.Email, err)
	}
	return nil
}

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// GetUser returns the user with the given ID, or ErrNotFound.
func (db *DB) GetUser(ctx context.Context, id string) (auth.User, error) {
	u, err := scanUser(db.sql.QueryRowContext(ctx, db.Rebind(userSelect+" WHERE u.id = ?"), id))
	if err != nil {
		return auth.User{}, errNoRows(err, fmt.Sprintf("user %q", id))
	}
	return u, nil
}

// GetUserByEmail returns the user with the given (normalised) email, or
// ErrNotFound.
func (db *DB) GetUserByEmail(ctx context.Context, email string) (auth.User, error) {
	u, err := scanUser(db.sql.QueryRowContext(ctx, db.Rebind(userSelect+" WHERE u.email = ?"), email))
	if err != nil {
		return auth.User{}, errNoRows(err, fmt.Sprintf("user %q", email))
	}
	return u, nil
}

// ListUsers returns every user, or the members of one team when team is
// not "", ordered by email.
func (db *DB) ListUsers(ctx context.Context, team string) ([]auth.User, error) {
	q := userSelect
	var args []any
	if team != "" {
		q += " WHERE m.team = ?"
		args = append(args, team)
	}
	rows, err := db.sql.QueryContext(ctx, db.Rebind(q+" ORDER BY u.email"), args...)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	out := []auth.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return out, nil
}

// UpdateUser replaces the stored user u.ID with u: email, name, role and
// its team or consumer, disabled, password hash. The last sign-in is left
// to RecordLogin, so that an update cannot undo a sign-in racing it.
// UpdatedAt defaults to now. An unknown ID is ErrNotFound; an email taken by another
// user is ErrConflict.
func (db *DB) UpdateUser(ctx context.Context, u auth.User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	updated := nowOr(u.UpdatedAt)
	err := db.write(ctx, func(tx *sql.Tx) error {
		var other string
		err := tx.QueryRowContext(ctx, db.Rebind("SELECT id FROM users WHERE email = ? AND id <> ?"), u.Email, u.ID).Scan(&other)
		if err == nil {
			return ErrConflict
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE users SET email = ?, name = ?, role = ?, consumer = ?,
			password_hash = ?, disabled = ?, updated_us = ? WHERE id = ?`),
			u.Email, u.Name, globalRole(u), u.Consumer, u.PasswordHash, u.Disabled, micros(updated), u.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %q: %w", u.ID, ErrNotFound)
		}
		if u.Team == "" {
			_, err = tx.ExecContext(ctx, db.Rebind("DELETE FROM team_members WHERE user_id = ?"), u.ID)
			return err
		}
		_, err = tx.ExecContext(ctx, db.Rebind(`INSERT INTO team_members (user_id, team, role, created_us) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET role = excluded.role,
			team = excluded.team, created_us = CASE WHEN team_members.team = excluded.team THEN team_members.created_us ELSE excluded.created_us END`),
			u.ID, u.Team, string(u.Role), micros(updated))
		return err
	})
	if err != nil {
		return fmt.Errorf("updating user %q: %w", u.ID, err)
	}
	return nil
}

// DeleteUser deletes a user with its sessions and membership; an unknown ID
// is ErrNotFound.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		// Explicit rather than left to ON DELETE CASCADE, which SQLite only
		// honours on connections with foreign keys turned on.
		for _, q := range []string{"DELETE FROM sessions WHERE user_id = ?", "DELETE FROM team_members WHERE user_id = ?"} {
			if _, err := tx.ExecContext(ctx, db.Rebind(q), id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM users WHERE id = ?"), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %q: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting user: %w", err)
	}
	return nil
}

// AddTeamMember makes user userID a member of team with role, or changes
// the role of a member of that team, and returns the user as now stored.
// Only a user with no role yet (auth.RoleNone) can join a team: one with a
// global role, or a member of another team, is ErrConflict, so that a team
// can neither narrow a global user's rights nor take another team's member.
// An unknown user is ErrNotFound.
func (db *DB) AddTeamMember(ctx context.Context, team, userID string, role auth.Role) (auth.User, error) {
	if team == "" || !role.TeamRole() {
		return auth.User{}, fmt.Errorf("%w: a member needs a team and a team role (team_admin, developer, reviewer, viewer)", ErrInvalid)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		var globalRole, consumer, current string
		err := tx.QueryRowContext(ctx, db.Rebind(`SELECT u.role, u.consumer, COALESCE(m.team, '')
			FROM users u LEFT JOIN team_members m ON m.user_id = u.id WHERE u.id = ?`), userID).Scan(&globalRole, &consumer, &current)
		if err != nil {
			return errNoRows(err, fmt.Sprintf("user %q", userID))
		}
		switch {
		case current != "" && current != team:
			return fmt.Errorf("user is a member of team %q: %w", current, ErrConflict)
		case current == "" && (globalRole != "" || consumer != ""):
			return fmt.Errorf("user has the global role %q: %w", globalRole, ErrConflict)
		}
		now := micros(time.Now())
		if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO team_members (user_id, team, role, created_us) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET role = excluded.role`), userID, team, string(role), now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.Rebind("UPDATE users SET updated_us = ? WHERE id = ?"), now, userID)
		return err
	})
	if err != nil {
		return auth.User{}, fmt.Errorf("adding a member to team %q: %w", team, err)
	}
	return db.GetUser(ctx, userID)
}

// RemoveTeamMember takes user userID out of team, leaving it with no role
// (auth.RoleNone). A user who is not a member of team is ErrNotFound.
func (db *DB) RemoveTeamMember(ctx context.Context, team, userID string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind("DELETE FROM team_members WHERE team = ? AND user_id = ?"), team, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %q in team %q: %w", userID, team, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, db.Rebind("UPDATE users SET updated_us = ? WHERE id = ?"), micros(time.Now()), userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("removing a member from team %q: %w", team, err)
	}
	return nil
}

// RemoveTeamMembers takes every member out of team (which is being
// deleted), leaving them with no role, and returns their IDs.
func (db *DB) RemoveTeamMembers(ctx context.Context, team string) ([]string, error) {
	var ids []string
	err := db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.Rebind("SELECT user_id FROM team_members WHERE team = ? ORDER BY user_id"), team)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.Rebind("DELETE FROM team_members WHERE team = ?"), team)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("removing the members of team %q: %w", team, err)
	}
	return ids, nil
}

// RecordLogin stores the time of a user's sign-in. An unknown ID is
// ErrNotFound.
func (db *DB) RecordLogin(ctx context.Context, id string, at time.Time) error {
	return db.updateOne(ctx, "UPDATE users SET last_login_us = ? WHERE id = ?", micros(at), id)
}

// SetPasswordHash replaces a user's password hash, touching nothing else.
// An unknown ID is ErrNotFound.
func (db *DB) SetPasswordHash(ctx context.Context, id, hash string) error {
	if hash == "" {
		return fmt.Errorf("empty password hash: %w", ErrInvalid)
	}
	return db.updateOne(ctx, "UPDATE users SET password_hash = ?, updated_us = ? WHERE id = ?", hash, micros(time.Now()), id)
}

// updateOne runs an UPDATE of the user whose ID is the last argument.
func (db *DB) updateOne(ctx context.Context, q string, args ...any) error {
	id := args[len(args)-1]
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.Rebind(q), args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("user %v: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating user: %w", err)
	}
	return nil
}
