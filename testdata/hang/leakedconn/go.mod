module example.com/leakedconn

go 1.21
