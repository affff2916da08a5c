module example.com/chanrecv

go 1.21
