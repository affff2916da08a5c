module example.com/cleanup

go 1.21
