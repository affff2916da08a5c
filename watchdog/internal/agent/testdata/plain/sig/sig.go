// Package sig is a fixture whose tests handle SIGQUIT.
package sig
