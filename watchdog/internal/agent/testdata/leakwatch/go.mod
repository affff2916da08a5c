module example.com/leakwatch

go 1.21
