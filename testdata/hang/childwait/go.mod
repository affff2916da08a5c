module example.com/childwait

go 1.21
