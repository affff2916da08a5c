// Package coretest holds what the core's tests share: namers that follow
// go test's and pytest's rules for nested test names, as copies, so that
// the core's tests need no adapter.
package coretest

import "strings"

// Slash names tests as go test does: "TestA/sub" is a subtest of "TestA".
type Slash struct{}

// Parent implements core.Namer.
func (Slash) Parent(s string) (string, bool) {
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return "", false
	}
	return s[:i], true
}

// Colons names tests as a runner whose ids nest with "::" and hold '/' in
// their file part (pytest's node ids).
type Colons struct{}

// Parent implements core.Namer.
func (Colons) Parent(s string) (string, bool) {
	i := strings.LastIndex(s, "::")
	if i < 0 {
		return "", false
	}
	return s[:i], true
}
