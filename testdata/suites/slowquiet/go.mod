module example.com/slowquiet

go 1.21
