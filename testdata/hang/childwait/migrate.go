// Fixture childwait: Migrate runs an external migration tool and waits for it
// with no timeout; the tool (here `sleep 3600`) never exits. TestMigrate
// blocks in Migrate's cmd.Run, waiting for the child process (syscall).
package migrate

import "os/exec"

// Migrate applies the schema migrations in dir.
func Migrate(dir string) error {
	cmd := exec.Command("sleep", "3600") // stands in for `migrate -path dir up`
	cmd.Dir = dir
	return cmd.Run() // BUG: no context, no timeout
}
