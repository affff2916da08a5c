module example.com/slowlogger

go 1.21
