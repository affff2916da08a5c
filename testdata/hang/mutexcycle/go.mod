module example.com/mutexcycle

go 1.21
