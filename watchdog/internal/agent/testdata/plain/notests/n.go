// Package notests has no tests: go test runs no binary for it.
package notests
