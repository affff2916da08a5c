module github.com/hangdog/hangdog

go 1.26.8

require (
	github.com/google/pprof v0.0.0-20261105003125-4bf881d7fb0b
	github.com/spf13/pflag v1.1.0
	go.uber.org/zap v1.28.0
	golang.org/x/sys v0.32.0
)

require go.uber.org/multierr v1.10.0 // indirect
