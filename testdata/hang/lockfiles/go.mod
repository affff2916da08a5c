module example.com/lockfiles

go 1.21
