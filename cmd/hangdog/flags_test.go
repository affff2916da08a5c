package main

import (
	"encoding/json"
	"flag"
)

var update = flag.Bool("update", false, "rewrite golden files")

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
