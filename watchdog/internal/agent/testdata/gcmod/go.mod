module example.com/gcmod

go 1.24
