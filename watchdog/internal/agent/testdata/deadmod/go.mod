module example.com/deadmod

go 1.26
