package main

import (
	"fmt"
	"sort"
	"strings"
)

func printTable(ks []kernel, tools []string, results map[string][]map[string]outcome, repeat int) {
	fmt.Printf("\n| kernel | expected leaks | hangdog | goleak.VerifyNone | go test -timeout |\n|---|---|---|---|---|\n")
	any := map[string]int{}
	every := map[string]int{}
	union := 0 // named by goleak or -timeout in some run
	for _, k := range ks {
		fmt.Printf("| %s | %d |", k.name, len(k.expect))
		byTool := map[string]bool{}
		for _, tool := range tools {
			hits, hows := 0, map[string]bool{}
			for _, res := range results[tool] {
				if o := res["Test"+k.name]; o.named {
					hits++
					hows[o.how] = true
				}
			}
			var hs []string
			for h := range hows {
				hs = append(hs, h)
			}
			sort.Strings(hs)
			cell := "–"
			if hits > 0 {
				cell = fmt.Sprintf("%d/%d %s", hits, repeat, strings.Join(hs, ", "))
				any[tool]++
				byTool[tool] = true
			}
			if hits == repeat {
				every[tool]++
			}
			fmt.Printf(" %s |", cell)
		}
		if byTool["goleak"] || byTool["timeout"] {
			union++
		}
		fmt.Println()
	}
	fmt.Printf("| **named in some run** | | **%d** | **%d** | **%d** |\n", any["hangdog"], any["goleak"], any["timeout"])
	fmt.Printf("| **named in every run** | | **%d** | **%d** | **%d** |\n", every["hangdog"], every["goleak"], every["timeout"])
	fmt.Printf("\nkernels named by goleak or -timeout (in some run): %d; by hangdog: %d\n", union, any["hangdog"])
}

func countNamed(res map[string]outcome) int {
	n := 0
	for _, o := range res {
		if o.named {
			n++
		}
	}
	return n
}
