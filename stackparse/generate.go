package stackparse

// The fixtures in testdata/dumps are real dumps printed by the programs in
// testdata/gen under Go 1.20 to 1.26; regenerating them needs those
// toolchains (GOTOOLCHAIN fetches them into the module cache).
//go:generate bash testdata/gen.sh
//go:generate bash testdata/genlex.sh
