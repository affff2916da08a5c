package migrate

import "testing"

func TestMigrate(t *testing.T) {
	if err := Migrate(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
