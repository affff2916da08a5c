module example.com/profmod

go 1.24
