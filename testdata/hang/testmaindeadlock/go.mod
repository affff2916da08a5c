module example.com/testmaindeadlock

go 1.21
