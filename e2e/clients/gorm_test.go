package clients

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// GORM models: has-one, has-many, many-to-many, soft delete, unique index.
type gormUser struct {
	ID        uint   `gorm:"primaryKey"`
	Name      string `gorm:"size:100;not null"`
	Email     string `gorm:"uniqueIndex;not null"`
	Age       int
	Balance   float64     `gorm:"type:numeric(12,2);default:0"`
	Profile   gormProfile `gorm:"foreignKey:UserID"`
	Orders    []gormOrder `gorm:"foreignKey:UserID"`
	Tags      []gormTag   `gorm:"many2many:gorm_user_tags;"`
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

type gormProfile struct {
	ID     uint `gorm:"primaryKey"`
	UserID uint `gorm:"uniqueIndex"`
	Bio    string
}

type gormOrder struct {
	ID     uint `gorm:"primaryKey"`
	UserID uint `gorm:"index"`
	Item   string
	Cents  int64
}

type gormTag struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"uniqueIndex"`
}

// sqlRecorder is a GORM logger that keeps every SQL statement it traces.
type sqlRecorder struct {
	logger.Interface
	mu    sync.Mutex
	stmts []string
}

func (r *sqlRecorder) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	sql, _ := fc()
	r.mu.Lock()
	r.stmts = append(r.stmts, sql)
	r.mu.Unlock()
}

func (r *sqlRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

var ddlStatement = regexp.MustCompile(`(?i)^\s*(CREATE|ALTER|DROP|COMMENT)\b`)

// TestGORM: AutoMigrate creates the schema and a second AutoMigrate issues
// no DDL at all; create with associations, Preload, association mode,
// transactions with rollback and nested savepoints, soft delete.
func TestGORM(t *testing.T) {
	n := startNode(t)
	rec := &sqlRecorder{Interface: logger.Discard}
	db, err := gorm.Open(postgres.Open(n.url()), &gorm.Config{Logger: rec})
	if err != nil {
		t.Fatalf("gorm open: %v", err)
	}
	models := []any{&gormUser{}, &gormProfile{}, &gormOrder{}, &gormTag{}}
	if err := db.AutoMigrate(models...); err != nil {
		t.Fatalf("first AutoMigrate: %v\nSQL:\n%s", err, strings.Join(rec.take(), "\n"))
	}
	rec.take()
	if err := db.AutoMigrate(models...); err != nil {
		t.Fatalf("second AutoMigrate: %v\nSQL:\n%s", err, strings.Join(rec.take(), "\n"))
	}
	for _, s := range rec.take() {
		if ddlStatement.MatchString(s) {
			t.Errorf("second AutoMigrate is not a no-op, it ran: %s", s)
		}
	}
	if t.Failed() {
		return
	}
	gormAssociations(t, db)
	gormTransactions(t, db)
}

func gormAssociations(t *testing.T, db *gorm.DB) {
	t.Helper()
	u := gormUser{Name: "Ada", Email: "ada@example.com", Age: 36, Balance: 12.5,
		Profile: gormProfile{Bio: "analyst"},
		Orders:  []gormOrder{{Item: "engine", Cents: 1000}, {Item: "cards", Cents: 250}},
		Tags:    []gormTag{{Name: "math"}, {Name: "poetry"}}}
	if err := db.Create(&u).Error; err != nil {
		t.Fatalf("create with associations: %v", err)
	}
	if u.ID == 0 || u.Profile.ID == 0 || u.Orders[1].ID == 0 || u.Tags[1].ID == 0 {
		t.Fatalf("ids not returned: %+v", u)
	}
	if err := db.Create(&gormUser{Name: "Ada 2", Email: "ada@example.com"}).Error; !errors.Is(err, gorm.ErrDuplicatedKey) &&
		sqlStateOf(err) != "23505" {
		t.Fatalf("duplicate email: %v", err)
	}
	var got gormUser
	err := db.Preload("Profile").Preload("Orders", func(q *gorm.DB) *gorm.DB { return q.Order("cents DESC") }).
		Preload("Tags").First(&got, u.ID).Error
	if err != nil {
		t.Fatalf("preload: %v", err)
	}
	if got.Name != "Ada" || got.Profile.Bio != "analyst" || len(got.Orders) != 2 || got.Orders[0].Item != "engine" ||
		len(got.Tags) != 2 || got.Balance != 12.5 {
		t.Fatalf("preloaded user wrong: %+v", got)
	}
	if err := db.Model(&got).Association("Tags").Append(&gormTag{Name: "looms"}); err != nil {
		t.Fatalf("association append: %v", err)
	}
	if c := db.Model(&got).Association("Tags").Count(); c != 3 {
		t.Fatalf("association count %d, want 3", c)
	}
	var total int64
	if err := db.Model(&gormOrder{}).Where("user_id = ?", u.ID).Select("sum(cents)").Scan(&total).Error; err != nil || total != 1250 {
		t.Fatalf("sum of orders %d %v", total, err)
	}
	if err := db.Model(&got).Updates(map[string]any{"age": gorm.Expr("age + ?", 1), "name": "Ada L."}).Error; err != nil {
		t.Fatalf("updates: %v", err)
	}
	if err := db.Delete(&got).Error; err != nil {
		t.Fatalf("soft delete: %v", err)
	}
	var visible, all int64
	db.Model(&gormUser{}).Count(&visible)
	db.Unscoped().Model(&gormUser{}).Where("age = 37 AND name = 'Ada L.'").Count(&all)
	if visible != 0 || all != 1 {
		t.Fatalf("soft delete: %d visible, %d unscoped", visible, all)
	}
}

func gormTransactions(t *testing.T, db *gorm.DB) {
	t.Helper()
	errRollback := errors.New("roll back on purpose")
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&gormTag{Name: "doomed"}).Error; err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("transaction error %v", err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&gormTag{Name: "kept"}).Error; err != nil {
			return err
		}
		nested := tx.Transaction(func(tx2 *gorm.DB) error { // SAVEPOINT
			if err := tx2.Create(&gormTag{Name: "inner"}).Error; err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(nested, errRollback) {
			return nested
		}
		return tx.Create(&gormTag{Name: "after-savepoint"}).Error
	})
	if err != nil {
		t.Fatalf("transaction with savepoint: %v", err)
	}
	var names []string
	if err := db.Model(&gormTag{}).Order("name").Pluck("name", &names).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "after-savepoint,kept,looms,math,poetry" {
		t.Fatalf("tags after transactions: %v", names)
	}
}
