// Command tool is a package main with tests.
package main

import "fmt"

func main() { fmt.Println(answer()) }

func answer() int { return 42 }
