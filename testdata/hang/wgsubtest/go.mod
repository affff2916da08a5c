module example.com/wgsubtest

go 1.21
