module example.com/busyloop

go 1.21
