// Package withmain is a fixture with a TestMain.
package withmain
