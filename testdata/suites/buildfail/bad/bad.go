// Package bad does not compile: the build failure must be reported as one.
package bad

func Broken() int {
	return undefinedName
}
